package ops

import "syscall"

// diskSpace asks the kernel for the room on dir's file system.
func diskSpace(dir string) (Space, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return Space{}, err
	}
	block := uint64(st.Frsize)
	if block == 0 {
		block = uint64(st.Bsize)
	}
	return Space{Free: st.Bavail * block, Capacity: st.Blocks * block}, nil
}
