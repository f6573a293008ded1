package bolt

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// residentPages tells which parts of a file are in the page cache, through
// mincore(2) on a read-only mapping of it (mapping alone reads nothing).
type residentPages struct {
	data []byte
	vec  []byte
}

func residency(f *os.File, size int64) residentPages {
	// Sequential read-ahead for our own reads (bbolt's mapping stays random).
	_ = unix.Fadvise(int(f.Fd()), 0, size, unix.FADV_SEQUENTIAL)
	data, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return residentPages{}
	}
	return residentPages{data: data, vec: make([]byte, warmChunk/os.Getpagesize()+1)}
}

// all reports whether every page of [off, off+n) is resident; without a
// mapping it answers false, so everything is read.
func (r residentPages) all(off, n int64) bool {
	if r.data == nil {
		return false
	}
	page := int64(os.Getpagesize())
	end := min(off+n, int64(len(r.data)))
	for start := off &^ (page - 1); start < end; {
		stop := min(end, start+int64(len(r.vec))*page)
		region := r.data[start:stop]
		vec := r.vec[:(stop-start+page-1)/page]
		_, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&region[0])), uintptr(len(region)), uintptr(unsafe.Pointer(&vec[0])))
		if errno != 0 {
			return false
		}
		for _, v := range vec {
			if v&1 == 0 {
				return false
			}
		}
		start = stop
	}
	return true
}

func (r residentPages) close() {
	if r.data != nil {
		_ = unix.Munmap(r.data)
	}
}

// trimMapping drops the pages of a read-only shared file mapping from the
// process's page tables; the next access faults them back from the page
// cache (a minor fault), so readers see the same bytes.
func trimMapping(addr uintptr, size int64) {
	_, _, _ = unix.Syscall(unix.SYS_MADVISE, addr, uintptr(size), unix.MADV_DONTNEED)
}
