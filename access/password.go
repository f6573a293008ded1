package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// PasswordParams are argon2id's cost parameters. They are stored in every
// hash, so raising them later applies to new passwords and old hashes still
// verify.
type PasswordParams struct {
	// Time is the number of passes over the memory.
	Time uint32
	// MemoryKiB is the memory each hash fills, in KiB.
	MemoryKiB uint32
	// Threads is the parallelism.
	Threads uint8
}

// DefaultPasswordParams are OWASP's minimum for argon2id (19 MiB, 2
// passes, 1 lane): about 30 ms per sign-in on one core here, which makes
// a stolen hash slow to guess and costs a person nothing.
var DefaultPasswordParams = PasswordParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

const (
	saltLen = 16
	hashLen = 32
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 12
	// maxPasswordLen bounds what is hashed, so a megabyte "password" is
	// refused rather than hashed.
	maxPasswordLen = 256
)

// ErrWeakPassword: the password is shorter than MinPasswordLen.
var ErrWeakPassword = fmt.Errorf("a password needs at least %d characters", MinPasswordLen)

// hasher hashes and verifies passwords. Hashing fills MemoryKiB per call,
// so at most one hash per CPU runs at a time: a burst of sign-ins queues
// instead of exhausting memory.
type hasher struct {
	params PasswordParams
	slots  chan struct{}
	// dummy is verified against when the user does not exist, so a
	// sign-in takes as long for an unknown name as for a wrong password
	// and the timing does not tell which names exist.
	dummy string
}

func newHasher(p PasswordParams) (*hasher, error) {
	if p.Time == 0 || p.MemoryKiB < 8 || p.Threads == 0 {
		return nil, fmt.Errorf("access: invalid password parameters %+v", p)
	}
	h := &hasher{params: p, slots: make(chan struct{}, runtime.NumCPU())}
	dummy, err := h.hash("not a password of anybody")
	if err != nil {
		return nil, err
	}
	h.dummy = dummy
	return h, nil
}

// checkPassword refuses a password too short, too long or not UTF-8.
func checkPassword(password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return errors.New("a password must be valid UTF-8 text")
	case n < MinPasswordLen:
		return ErrWeakPassword
	case len(password) > maxPasswordLen:
		return fmt.Errorf("a password may have at most %d bytes", maxPasswordLen)
	}
	return nil
}

// hash returns the PHC string of password under a fresh salt:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func (h *hasher) hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := h.params
	h.slots <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, hashLen)
	<-h.slots
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// verify reports whether password matches the PHC string encoded. An
// empty encoded hash verifies against the dummy and answers false.
func (h *hasher) verify(encoded, password string) bool {
	if encoded == "" || len(password) > maxPasswordLen {
		h.verify(h.dummy, "")
		return false
	}
	p, salt, want, err := parseHash(encoded)
	if err != nil {
		return false
	}
	h.slots <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	<-h.slots
	return subtle.ConstantTimeCompare(got, want) == 1
}

// parseHash reads a PHC string written by hash.
func parseHash(encoded string) (PasswordParams, []byte, []byte, error) {
	bad := errors.New("access: malformed password hash")
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return PasswordParams{}, nil, nil, bad
	}
	var p PasswordParams
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || n == 0 {
			return PasswordParams{}, nil, nil, bad
		}
		switch k {
		case "m":
			p.MemoryKiB = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > 255 {
				return PasswordParams{}, nil, nil, bad
			}
			p.Threads = uint8(n)
		default:
			return PasswordParams{}, nil, nil, bad
		}
	}
	// A hash from the store is trusted data, but a corrupted one must not
	// make a sign-in allocate gigabytes.
	if p.Time == 0 || p.MemoryKiB == 0 || p.Threads == 0 || p.MemoryKiB > 1<<20 || p.Time > 64 {
		return PasswordParams{}, nil, nil, bad
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return PasswordParams{}, nil, nil, bad
	}
	return p, salt, key, nil
}
