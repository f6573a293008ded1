package main

import (
	"errors"
	"fmt"
	"net"
)

// errPlaintextExposed refuses to serve health data in clear text beyond this machine.
var errPlaintextExposed = errors.New("refusing to listen on a non-loopback address without TLS: give --tls-cert and --tls-key, or --insecure if a proxy terminates TLS")

// checkListen allows a plaintext listener only on loopback, unless insecure.
func checkListen(addr string, tls, insecure bool) error {
	if tls || insecure {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: address %q: %v", errUsage, addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return errPlaintextExposed
	}
	return nil
}
