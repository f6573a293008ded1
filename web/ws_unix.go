//go:build unix

package web

import "syscall"

// canWriteNow says the hub may write to sockets directly (directWriter).
const canWriteNow = true

// directWriter makes the hub's non-blocking writes. The hub has one and
// reuses it for every write, so a broadcast allocates nothing per client.
type directWriter struct {
	frame   []byte
	written int
	err     error
	// attempt is d.attemptOnce, bound once.
	attempt func(fd uintptr) bool
}

// newDirectWriter returns the hub's writer.
func newDirectWriter() *directWriter {
	d := &directWriter{}
	d.attempt = d.attemptOnce
	return d
}

// write writes as much of frame to raw's socket as it takes without
// waiting, in one system call when it takes it all, and returns how much
// it took. An error means the connection is broken (or closed). The
// caller holds the connection's wmu with nothing queued.
func (d *directWriter) write(raw syscall.RawConn, frame []byte) (int, error) {
	d.frame, d.written, d.err = frame, 0, nil
	err := raw.Write(d.attempt)
	written, werr := d.written, d.err
	d.frame, d.err = nil, nil
	if err != nil {
		return written, err
	}
	return written, werr
}

// attemptOnce is the callback of raw.Write: it never asks to wait.
func (d *directWriter) attemptOnce(fd uintptr) bool {
	for d.written < len(d.frame) {
		n, err := syscall.Write(int(fd), d.frame[d.written:])
		if n > 0 {
			d.written += n
		}
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return true // the connection's writer waits for the rest
		case err != nil:
			d.err = err
			return true
		case n <= 0:
			return true
		}
	}
	return true
}
