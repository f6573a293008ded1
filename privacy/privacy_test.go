package privacy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openTestStore(t *testing.T) (*KeyStore, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.db")
	ks, err := OpenKeyStore(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks, path
}

func TestSealOpenRoundTrip(t *testing.T) {
	ks, _ := openTestStore(t)
	p := Personal{Name: "Ada Quill", DateOfBirth: "1980-02-03", Contact: "555-0100"}
	s, err := ks.Seal("p1", p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Ciphertext, []byte("Ada")) {
		t.Fatal("ciphertext holds plaintext")
	}
	got, err := ks.Open(s)
	if err != nil || got != p {
		t.Fatalf("Open = %+v, %v; want %+v", got, err, p)
	}
}

func TestSealedBlobBoundToSubject(t *testing.T) {
	ks, _ := openTestStore(t)
	s, err := ks.Seal("p1", Personal{Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Seal("p2", Personal{Name: "Bo"}); err != nil {
		t.Fatal(err)
	}
	s.KeyID = "p2"
	if _, err := ks.Open(s); err == nil {
		t.Fatal("a blob opened under another person's key")
	}
}

func TestForgetErasesAndLeavesNoKeyOnDisk(t *testing.T) {
	ks, path := openTestStore(t)
	s, err := ks.Seal("p1", Personal{Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := ks.Seal("p2", Personal{Name: "Bo"})
	if err != nil {
		t.Fatal(err)
	}
	var key []byte
	if err := ks.db.View(func(tx *bolt.Tx) error {
		key = append([]byte(nil), tx.Bucket(keysBucket).Get([]byte("p1"))...)
		return nil
	}); err != nil || len(key) != 32 {
		t.Fatalf("reading p1's key: %v (len %d)", err, len(key))
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, key) {
		t.Fatal("test premise: the key file should hold p1's key before Forget")
	}
	if err := ks.Forget("p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Open(s); !errors.Is(err, ErrErased) {
		t.Fatalf("Open after Forget = %v, want ErrErased", err)
	}
	if gone, _ := ks.Forgotten("p1"); !gone {
		t.Fatal("Forgotten(p1) = false")
	}
	if got, err := ks.Open(keep); err != nil || got.Name != "Bo" {
		t.Fatalf("other person damaged: %+v, %v", got, err)
	}
	raw, _ = os.ReadFile(path)
	if bytes.Contains(raw, key) {
		t.Fatal("key file still holds p1's key bytes after Forget")
	}
}
