package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/internal/durable"
	"github.com/continuum-care/continuum/projections"
	"github.com/continuum-care/continuum/web"
)

// errDataDirInUse: a running process holds the data directory's files.
var errDataDirInUse = errors.New("the data directory is in use")

// lockedFiles are the bbolt files a running serve or eventstore holds
// locked in its data directory (serve on KurrentDB holds only the keys).
var lockedFiles = []string{bolt.FileName, keysFile}

// derivedFiles are rebuilt from the log; after a restore they describe a
// log that is no longer there. A projections snapshot or the seat
// releaser's checkpoint at a position past the restored log's end would
// make them skip the events appended next, so they go.
var derivedFiles = []string{projections.SnapshotFile, seatReleaserFile}

// inUseTimeout bounds the wait for a file lock before calling it held.
const inUseTimeout = 500 * time.Millisecond

// refuseIfInUse fails when a process holds one of dir's store files. A
// file that does not open as bbolt is not in use (it may be the damaged
// store being replaced).
func refuseIfInUse(dir string) error {
	for _, name := range lockedFiles {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: inUseTimeout})
		if errors.Is(err, bbolt.ErrTimeout) {
			return fmt.Errorf("%w: %s is locked by a running process; stop continuum first", errDataDirInUse, path)
		}
		if err == nil {
			db.Close()
		}
	}
	return nil
}

// runRestore replaces the embedded store of a stopped server with a backup.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("restore", stderr)
	dir := flags.String("data", "./continuum-data", "data directory of the stopped server to restore into")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: continuum restore --data DIR FILE\n\nReplaces DIR's event store with the backup FILE (continuum backup's output). The server must be stopped.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return errUsage
	}
	res, err := restore(*dir, flags.Arg(0), time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "continuum restore: %s now holds %d events up to position %s from %s\n",
		filepath.Join(*dir, bolt.FileName), res.summary.Events, web.FormatPosition(res.summary.Last), flags.Arg(0))
	if res.previous != "" {
		fmt.Fprintf(stdout, "  the previous store is kept as %s (delete it once the restore is checked)\n", res.previous)
	}
	for _, name := range res.dropped {
		fmt.Fprintf(stdout, "  dropped %s: it is rebuilt from the restored log on the next start\n", name)
	}
	if !res.hasKeys {
		fmt.Fprintf(stdout, "  warning: %s has no %s; names in the restored events stay sealed until the site's key store is put back\n", *dir, keysFile)
	}
	return nil
}

// restored is what a restore did.
type restored struct {
	summary bolt.Summary
	// previous is where the replaced store was kept; empty if there was none.
	previous string
	// dropped lists the derived files removed.
	dropped []string
	hasKeys bool
}

// restore puts the backup at file in place as dir's store. The order
// makes every crash recoverable: the copy is staged and verified next to
// the store first (nothing changed yet), the derived files go next (they
// rebuild from whichever log is there), and the swap itself is a rename,
// with the old store kept under another name.
func restore(dir, file string, now time.Time) (restored, error) {
	if err := refuseIfInUse(dir); err != nil {
		return restored{}, err
	}
	src, err := os.Open(file)
	if err != nil {
		return restored{}, err
	}
	defer src.Close()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return restored{}, err
	}
	staged, _, err := stageFile(dir, bolt.FileName, src)
	if err != nil {
		return restored{}, fmt.Errorf("copying the backup into %s: %w", dir, err)
	}
	keep := false
	defer func() {
		if !keep {
			os.Remove(staged)
		}
	}()
	var res restored
	if res.summary, err = bolt.Verify(staged); err != nil {
		return restored{}, fmt.Errorf("%s is not a usable backup, nothing was changed: %w", file, err)
	}
	for _, name := range derivedFiles {
		switch err := os.Remove(filepath.Join(dir, name)); {
		case err == nil:
			res.dropped = append(res.dropped, name)
		case !errors.Is(err, fs.ErrNotExist):
			return restored{}, fmt.Errorf("dropping %s: %w", name, err)
		}
	}
	if err := durable.SyncDir(dir); err != nil {
		return restored{}, err
	}
	live := filepath.Join(dir, bolt.FileName)
	if res.previous, err = keepAside(live, now); err != nil {
		return restored{}, err
	}
	if err := os.Rename(staged, live); err != nil {
		return restored{}, err
	}
	keep = true
	if err := durable.SyncDir(dir); err != nil {
		return restored{}, err
	}
	_, err = os.Stat(filepath.Join(dir, keysFile))
	res.hasKeys = err == nil
	return res, nil
}

// keepAside gives the live store a second name, so the rename that
// replaces it loses nothing. A hard link keeps the live name in place
// until the rename; where links are not supported the store is moved,
// leaving a moment without one (the server is stopped, so nobody looks).
func keepAside(live string, now time.Time) (string, error) {
	if _, err := os.Stat(live); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	aside := live + ".before-restore-" + now.UTC().Format("20060102T150405Z")
	if err := os.Link(live, aside); err == nil {
		return aside, nil
	}
	if err := os.Rename(live, aside); err != nil {
		return "", fmt.Errorf("keeping the previous store: %w", err)
	}
	return aside, nil
}
