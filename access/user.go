package access

import (
	"slices"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// user is one user's state, folded from their stream.
type user struct {
	name         string
	role         Role
	programs     []domain.ProgramID
	disabled     bool
	passwordHash string
	// credentials are the live ones by ID; revoked ones are dropped, and
	// expired ones whenever a new one is issued.
	credentials map[string]credential
	// revision is the last folded revision of the stream.
	revision uint64
}

// credential is a session or token as the store knows it.
type credential struct {
	id, hash, label, by string
	kind                CredentialKind
	issuedAt, expiresAt time.Time
}

// evolve folds one event into u. It never fails: what the store holds is
// fact, and validation happened before the append.
func (u *user) evolve(e any, now time.Time) {
	switch e := e.(type) {
	case userAdded:
		u.name, u.role, u.programs, u.passwordHash = e.Name, e.Role, slices.Clone(e.Programs), e.PasswordHash
		u.credentials = map[string]credential{}
	case userChanged:
		u.role, u.programs, u.disabled = e.Role, slices.Clone(e.Programs), e.Disabled
		if e.Disabled {
			clear(u.credentials)
		}
	case passwordChanged:
		u.passwordHash = e.PasswordHash
	case credentialIssued:
		for id, c := range u.credentials {
			if !c.expiresAt.After(now) {
				delete(u.credentials, id)
			}
		}
		u.credentials[e.ID] = credential{id: e.ID, hash: e.SecretHash, label: e.Label, by: e.By,
			kind: e.Kind, issuedAt: e.IssuedAt, expiresAt: e.ExpiresAt}
	case credentialRevoked:
		delete(u.credentials, e.ID)
	}
}

// UserInfo is a user as an admin sees it: never a hash or a secret.
type UserInfo struct {
	Name     string             `json:"name"`
	Role     Role               `json:"role"`
	Programs []domain.ProgramID `json:"programs"`
	Disabled bool               `json:"disabled"`
	// Credentials are the live sessions and tokens.
	Credentials []CredentialInfo `json:"credentials"`
}

// CredentialInfo describes a live credential by its public ID.
type CredentialInfo struct {
	ID        string         `json:"id"`
	Kind      CredentialKind `json:"kind"`
	Label     string         `json:"label,omitempty"`
	IssuedAt  time.Time      `json:"issuedAt"`
	ExpiresAt time.Time      `json:"expiresAt"`
	IssuedBy  string         `json:"issuedBy"`
}

func (c credential) info() CredentialInfo {
	return CredentialInfo{ID: c.id, Kind: c.kind, Label: c.label, IssuedAt: c.issuedAt, ExpiresAt: c.expiresAt, IssuedBy: c.by}
}

// info describes u as of now.
func (u *user) info(now time.Time) UserInfo {
	out := UserInfo{Name: u.name, Role: u.role, Programs: slices.Clone(u.programs), Disabled: u.disabled, Credentials: []CredentialInfo{}}
	if out.Programs == nil {
		out.Programs = []domain.ProgramID{}
	}
	for _, c := range u.credentials {
		if c.expiresAt.After(now) {
			out.Credentials = append(out.Credentials, c.info())
		}
	}
	slices.SortFunc(out.Credentials, func(a, b CredentialInfo) int { return a.IssuedAt.Compare(b.IssuedAt) })
	return out
}

// Identity is who a request acts as, established from a credential.
type Identity struct {
	User string
	Role Role
	// Programs limit a clinician to the people and groups of these
	// programs; empty means every program.
	Programs []domain.ProgramID
	// Credential is the public ID of the credential presented, Kind its kind.
	Credential string
	Kind       CredentialKind
	ExpiresAt  time.Time
}

func (u *user) identity(c credential) Identity {
	return Identity{User: u.name, Role: u.role, Programs: slices.Clone(u.programs), Credential: c.id, Kind: c.kind, ExpiresAt: c.expiresAt}
}
