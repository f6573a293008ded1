// Package durable holds the file-system steps that make a write survive a
// crash, shared by the store, the projections' snapshots and the commands
// that replace files.
package durable

import "os"

// SyncDir makes the renames, creations and removals in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
