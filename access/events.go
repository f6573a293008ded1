package access

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// UserStreamPrefix starts the name of every user's stream, "user-<name>".
const UserStreamPrefix = "user-"

// userStream names a user's stream.
func userStream(name string) string { return UserStreamPrefix + name }

// Event types of a user's stream. None is a domain event type, so the
// clinical projections skip them as other systems' events.
const (
	typeUserAdded         = "UserAdded"
	typeUserChanged       = "UserChanged"
	typePasswordChanged   = "PasswordChanged"
	typeCredentialIssued  = "CredentialIssued"
	typeCredentialRevoked = "CredentialRevoked"
)

// userAdded creates a user. By is the admin who added them (or "setup"
// for the first admin and the demo users).
type userAdded struct {
	Name         string             `json:"name"`
	Role         Role               `json:"role"`
	Programs     []domain.ProgramID `json:"programs,omitempty"`
	PasswordHash string             `json:"passwordHash"`
	By           string             `json:"by"`
	At           time.Time          `json:"at"`
}

// userChanged replaces a user's role, programs and disabled flag.
// Disabling a user also ends every credential they hold.
type userChanged struct {
	Role     Role               `json:"role"`
	Programs []domain.ProgramID `json:"programs,omitempty"`
	Disabled bool               `json:"disabled,omitempty"`
	By       string             `json:"by"`
	At       time.Time          `json:"at"`
}

// passwordChanged replaces a user's password hash.
type passwordChanged struct {
	PasswordHash string    `json:"passwordHash"`
	By           string    `json:"by"`
	At           time.Time `json:"at"`
}

// credentialIssued records a session or token by the SHA-256 of its
// secret; the secret itself is shown once to whoever asked and never stored.
type credentialIssued struct {
	ID         string         `json:"id"`
	Kind       CredentialKind `json:"kind"`
	Label      string         `json:"label,omitempty"`
	SecretHash string         `json:"secretHash"`
	IssuedAt   time.Time      `json:"issuedAt"`
	ExpiresAt  time.Time      `json:"expiresAt"`
	By         string         `json:"by"`
}

// credentialRevoked ends a credential before its expiry (sign-out, or an
// admin revoking a token).
type credentialRevoked struct {
	ID string    `json:"id"`
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// encodeUserEvent names and encodes a user event.
func encodeUserEvent(e any) (string, []byte, error) {
	var typ string
	switch e.(type) {
	case userAdded:
		typ = typeUserAdded
	case userChanged:
		typ = typeUserChanged
	case passwordChanged:
		typ = typePasswordChanged
	case credentialIssued:
		typ = typeCredentialIssued
	case credentialRevoked:
		typ = typeCredentialRevoked
	default:
		return "", nil, fmt.Errorf("access: not a user event: %T", e)
	}
	data, err := json.Marshal(e)
	return typ, data, err
}

// decodeUserEvent reads a stored user event.
func decodeUserEvent(typ string, data []byte) (any, error) {
	var err error
	switch typ {
	case typeUserAdded:
		var e userAdded
		err = json.Unmarshal(data, &e)
		return e, err
	case typeUserChanged:
		var e userChanged
		err = json.Unmarshal(data, &e)
		return e, err
	case typePasswordChanged:
		var e passwordChanged
		err = json.Unmarshal(data, &e)
		return e, err
	case typeCredentialIssued:
		var e credentialIssued
		err = json.Unmarshal(data, &e)
		return e, err
	case typeCredentialRevoked:
		var e credentialRevoked
		err = json.Unmarshal(data, &e)
		return e, err
	}
	return nil, fmt.Errorf("access: unknown user event type %q", typ)
}
