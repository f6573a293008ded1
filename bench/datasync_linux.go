package bench

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync flushes the file's data and the metadata needed to read it back
// (its size), the same call bbolt makes on Linux at every commit.
func datasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }
