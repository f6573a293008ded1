//go:build !linux

package bench

import "os"

// datasync flushes the file to stable storage; outside Linux that is fsync,
// which is what bbolt uses there too.
func datasync(f *os.File) error { return f.Sync() }
