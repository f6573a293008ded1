package privacy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
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

// sealConcurrently seals Personal{Name: subject} for each subject, all at
// once, and returns the sealed blobs in order.
func sealConcurrently(t testing.TB, ks *KeyStore, subjects []string) []Sealed {
	out := make([]Sealed, len(subjects))
	var wg sync.WaitGroup
	errs := make(chan error, len(subjects))
	for i, subject := range subjects {
		wg.Go(func() {
			s, err := ks.Seal(subject, Personal{Name: subject})
			if err != nil {
				errs <- err
			}
			out[i] = s
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return out
}

func TestConcurrentSealsKeepOneKeyAPersonThatSurvivesAReopen(t *testing.T) {
	ks, path := openTestStore(t)
	var subjects []string
	for i := range 200 {
		subjects = append(subjects, "p"+strconv.Itoa(i))
	}
	// The same person sealed many times at once gets one key.
	for range 50 {
		subjects = append(subjects, "same")
	}
	sealed := sealConcurrently(t, ks, subjects)
	if err := ks.Close(); err != nil {
		t.Fatal(err)
	}
	reopened, err := OpenKeyStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reopened.Close()
	for i, s := range sealed {
		if got, err := reopened.Open(s); err != nil || got.Name != subjects[i] {
			t.Fatalf("blob %d of %s after a reopen: %+v, %v", i, subjects[i], got, err)
		}
	}
}

func TestForgetWhileOthersAreSealed(t *testing.T) {
	ks, _ := openTestStore(t)
	gone, err := ks.Seal("gone", Personal{Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	var subjects []string
	for i := range 100 {
		subjects = append(subjects, "p"+strconv.Itoa(i))
	}
	var sealed []Sealed
	var wg sync.WaitGroup
	wg.Go(func() { sealed = sealConcurrently(t, ks, subjects) })
	if err := ks.Forget("gone"); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := ks.Open(gone); !errors.Is(err, ErrErased) {
		t.Errorf("Open of a forgotten person: %v, want ErrErased", err)
	}
	for i, s := range sealed {
		if got, err := ks.Open(s); err != nil || got.Name != subjects[i] {
			t.Fatalf("blob of %s: %+v, %v", subjects[i], got, err)
		}
	}
}

// BenchmarkSealNewPeople seals the data of a new person (a key created and
// synced) from many goroutines at once, as referrals arriving together do.
func BenchmarkSealNewPeople(b *testing.B) {
	ks, err := OpenKeyStore(filepath.Join(b.TempDir(), "keys.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer ks.Close()
	var next atomic.Int64
	b.SetParallelism(32)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ks.Seal("p"+strconv.FormatInt(next.Add(1), 10), Personal{Name: "N"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "seals/s")
}
