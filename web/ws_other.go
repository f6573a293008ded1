//go:build !unix

package web

import (
	"errors"
	"syscall"
)

// canWriteNow says the hub may write to sockets directly: not on this
// system, where every frame goes through the connection's writer.
const canWriteNow = false

// directWriter would make the hub's non-blocking writes; it is never used
// where canWriteNow is false.
type directWriter struct{}

func newDirectWriter() *directWriter { return &directWriter{} }

func (d *directWriter) write(raw syscall.RawConn, frame []byte) (int, error) {
	return 0, errors.New("direct socket writes are not supported here")
}
