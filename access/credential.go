package access

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CredentialKind says how a credential is presented.
type CredentialKind string

// The kinds of credential.
const (
	// Session is a browser's sign-in, carried in an HttpOnly cookie and
	// paired with a CSRF token for state-changing requests.
	Session CredentialKind = "session"
	// Token is an API bearer token, for scripts and the command line.
	Token CredentialKind = "token"
)

// Lifetimes of credentials unless the caller chooses.
const (
	// DefaultSessionTTL is a clinical shift and then some: a browser left
	// signed in on a ward is signed out by the next morning.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultTokenTTL bounds how long a forgotten token stays usable.
	DefaultTokenTTL = 90 * 24 * time.Hour
	// MaxTokenTTL is the longest lifetime a token may be given.
	MaxTokenTTL = 366 * 24 * time.Hour
)

// secretLen is the random part of a credential: 256 bits, so guessing is
// hopeless and a plain SHA-256 of it is a safe thing to store.
const secretLen = 32

// ErrUnauthenticated: the credential is unknown, expired, revoked, or its
// user is disabled. Callers learn no more than that, by design.
var ErrUnauthenticated = errors.New("not signed in, or the sign-in has expired")

// newSecret draws a credential for user: the base64url secret, a dot, then
// the user name. The name lets any replica find the user's stream when it
// has not seen the credential yet (another replica issued it a moment ago);
// the secret carries no dot, so the first dot splits them.
func newSecret(user string) (credential string, hash string, err error) {
	b := make([]byte, secretLen)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	return secret + "." + user, hashSecret(secret), nil
}

// splitCredential reads a presented credential into its user name and the
// hash of its secret.
func splitCredential(credential string) (user, hash string, err error) {
	secret, user, ok := strings.Cut(credential, ".")
	raw, decodeErr := base64.RawURLEncoding.DecodeString(secret)
	if !ok || decodeErr != nil || len(raw) != secretLen || ParseUserName(user) != nil {
		return "", "", ErrUnauthenticated
	}
	return user, hashSecret(secret), nil
}

// hashSecret is what the store keeps of a secret.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CSRFToken derives the token a browser session must echo in the
// X-CSRF-Token header of state-changing requests. It is a one-way function
// of the session's secret, so any replica can check it without storing it,
// and knowing it does not reveal the session.
func CSRFToken(sessionCredential string) string {
	secret, _, _ := strings.Cut(sessionCredential, ".")
	sum := sha256.Sum256([]byte("continuum csrf\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newCredentialID draws the public handle of a credential, by which an
// admin lists and revokes it without ever seeing the secret.
func newCredentialID() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// maxUserNameLen bounds user names.
const maxUserNameLen = 64

// ParseUserName checks a user name: 1 to 64 lowercase letters, digits and
// . _ - @, starting with a letter or digit. Names appear in stream names,
// credentials and audit entries, so they are kept to a safe alphabet.
func ParseUserName(name string) error {
	if name == "" || len(name) > maxUserNameLen {
		return fmt.Errorf("a user name has 1 to %d characters", maxUserNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-' || c == '@'):
		default:
			return errors.New("a user name uses lowercase letters, digits and . _ - @, and starts with a letter or digit")
		}
	}
	return nil
}
