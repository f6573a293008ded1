// Package privacy keeps personal data (name, date of birth, contact) out of
// the event log in plain text. Each person's data is sealed with AES-256-GCM
// under a key of their own, kept in a key store outside the log; destroying
// the key erases the person everywhere the log is copied (crypto-shredding),
// while the clinical facts stay for outcomes.
package privacy

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrErased is returned when a person's key has been destroyed.
var ErrErased = errors.New("personal data erased")

// ErrUnavailable wraps a failure of the key file itself (a read-only or
// full disk): the call may succeed later, and nothing was sealed.
var ErrUnavailable = errors.New("key store unavailable")

// Personal is the plaintext personal data of one person.
type Personal struct {
	Name string `json:"name"`
	// DateOfBirth is YYYY-MM-DD, or empty when unknown.
	DateOfBirth string `json:"dob,omitempty"`
	Contact     string `json:"contact,omitempty"`
}

// Sealed is personal data encrypted under the key named by KeyID.
type Sealed struct {
	KeyID      string
	Nonce      []byte
	Ciphertext []byte
}

var keysBucket = []byte("keys")

// KeyStore holds one data key per person in a bbolt file. It is safe for
// concurrent use. A new key is durable (written and synced) before Seal
// returns data sealed with it; the keys that concurrent Seal calls create
// share one transaction and one fsync (group commit), so many new people
// at once (an import, a busy intake line) do not queue for a sync each.
type KeyStore struct {
	path string
	// file is held shared by every use of db and exclusively by Forget,
	// which replaces db when it compacts the file and must not interleave
	// with a key being read, created or cached.
	file sync.RWMutex
	db   *bolt.DB
	// mu guards cache.
	mu sync.Mutex
	// cache avoids a read transaction per decryption on hot views.
	cache map[string]cipher.AEAD
	// writes guards pending and writing, the group commit of new keys.
	writes  sync.Mutex
	pending []*keyWrite
	writing bool
}

// keyWrite is a new key waiting for the group commit.
type keyWrite struct {
	subject string
	// key is the key to store; after the commit, the subject's key in the
	// file (another caller's, if it created the subject's key first).
	key  []byte
	done chan error
}

// errLead tells a waiting keyWrite that it is to commit the next group.
var errLead = errors.New("lead the next commit")

// OpenKeyStore opens (creating if needed) the key file at path.
func OpenKeyStore(path string) (*KeyStore, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("key store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(keysBucket)
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return &KeyStore{path: path, db: db, cache: map[string]cipher.AEAD{}}, nil
}

// Close closes the key file.
func (k *KeyStore) Close() error {
	k.file.Lock()
	defer k.file.Unlock()
	return k.db.Close()
}

// Seal encrypts p under subject's key, creating the key on first use. The
// subject ID is bound into the ciphertext, so a blob cannot be moved to
// another person.
func (k *KeyStore) Seal(subject string, p Personal) (Sealed, error) {
	aead, err := k.aead(subject, true)
	if err != nil {
		return Sealed{}, err
	}
	plain, err := json.Marshal(p)
	if err != nil {
		return Sealed{}, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, err
	}
	return Sealed{KeyID: subject, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plain, []byte(subject))}, nil
}

// Open decrypts s. It returns ErrErased when the key was destroyed.
func (k *KeyStore) Open(s Sealed) (Personal, error) {
	aead, err := k.aead(s.KeyID, false)
	if err != nil {
		return Personal{}, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return Personal{}, errors.New("sealed personal data: bad nonce")
	}
	plain, err := aead.Open(nil, s.Nonce, s.Ciphertext, []byte(s.KeyID))
	if err != nil {
		return Personal{}, errors.New("sealed personal data: authentication failed")
	}
	var p Personal
	if err := json.Unmarshal(plain, &p); err != nil {
		return Personal{}, fmt.Errorf("sealed personal data: %w", err)
	}
	return p, nil
}

// Forget destroys subject's key, then rewrites the key file so the freed
// page holding the key is not left behind on disk.
func (k *KeyStore) Forget(subject string) error {
	k.file.Lock()
	defer k.file.Unlock()
	k.mu.Lock()
	delete(k.cache, subject)
	k.mu.Unlock()
	if err := k.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(keysBucket).Delete([]byte(subject))
	}); err != nil {
		return fmt.Errorf("key store: %w", err)
	}
	return k.compact()
}

// Forgotten reports whether subject has no key (never sealed, or erased).
func (k *KeyStore) Forgotten(subject string) (bool, error) {
	_, err := k.aead(subject, false)
	if errors.Is(err, ErrErased) {
		return true, nil
	}
	return false, err
}

// compact copies the live keys into a fresh file and replaces the old one.
// Called with k.file held exclusively.
func (k *KeyStore) compact() error {
	tmp := k.path + ".compact"
	os.Remove(tmp)
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("key store compact: %w", err)
	}
	if err := bolt.Compact(dst, k.db, 0); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fmt.Errorf("key store compact: %w", err)
	}
	if err := dst.Close(); err != nil {
		return fmt.Errorf("key store compact: %w", err)
	}
	if err := k.db.Close(); err != nil {
		return fmt.Errorf("key store compact: %w", err)
	}
	if err := os.Rename(tmp, k.path); err != nil {
		return fmt.Errorf("key store compact: %w", err)
	}
	if dir, err := os.Open(filepath.Dir(k.path)); err == nil {
		dir.Sync()
		dir.Close()
	}
	db, err := bolt.Open(k.path, 0o600, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return fmt.Errorf("key store reopen: %w", err)
	}
	k.db = db
	return nil
}

// aead returns subject's cipher, creating and storing its key if create
// is set and it has none.
func (k *KeyStore) aead(subject string, create bool) (cipher.AEAD, error) {
	if subject == "" {
		return nil, errors.New("key store: empty subject")
	}
	k.mu.Lock()
	a, ok := k.cache[subject]
	k.mu.Unlock()
	if ok {
		return a, nil
	}
	k.file.RLock()
	defer k.file.RUnlock()
	var key []byte
	err := k.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(keysBucket).Get([]byte(subject)); v != nil {
			key = append([]byte(nil), v...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if key == nil {
		if !create {
			return nil, ErrErased
		}
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if key, err = k.store(subject, key); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if a, err = cipher.NewGCM(block); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if cached, ok := k.cache[subject]; ok {
		return cached, nil
	}
	k.cache[subject] = a
	return a, nil
}

// store writes subject's new key and returns once it is synced to disk,
// answering the key the file holds for subject (the one given, or one a
// concurrent call stored first). Calls arriving while a commit is under
// way wait for it and then commit together: the first of them leads the
// next commit, for all that are waiting by then. Called with k.file held
// shared.
func (k *KeyStore) store(subject string, key []byte) ([]byte, error) {
	w := &keyWrite{subject: subject, key: key, done: make(chan error, 1)}
	k.writes.Lock()
	k.pending = append(k.pending, w)
	if k.writing {
		k.writes.Unlock()
		if err := <-w.done; err != errLead {
			return w.key, err
		}
		k.writes.Lock() // lead: k.writing is still set for us
	}
	k.writing = true
	group := k.pending
	k.pending = nil
	k.writes.Unlock()

	err := k.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(keysBucket)
		for _, g := range group {
			if v := b.Get([]byte(g.subject)); v != nil {
				g.key = append([]byte(nil), v...) // created by a call before it
				continue
			}
			if err := b.Put([]byte(g.subject), g.key); err != nil {
				return err
			}
		}
		return nil
	})

	k.writes.Lock()
	if len(k.pending) > 0 {
		k.pending[0].done <- errLead
	} else {
		k.writing = false
	}
	k.writes.Unlock()
	for _, g := range group {
		if g != w {
			g.done <- err
		}
	}
	return w.key, err
}
