//go:build !linux

package bolt

import "os"

// residentPages is unknown off Linux: every chunk is read.
type residentPages struct{}

func residency(*os.File, int64) residentPages { return residentPages{} }

func (residentPages) all(int64, int64) bool { return false }

func (residentPages) close() {}

func trimMapping(uintptr, int64) {}
