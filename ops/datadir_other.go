//go:build !linux

package ops

import "errors"

// diskSpace is measured on Linux only, where continuum is deployed; other
// systems get the write probe without the free-space gauges.
func diskSpace(string) (Space, error) { return Space{}, errors.ErrUnsupported }
