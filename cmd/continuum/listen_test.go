package main

import (
	"errors"
	"testing"
)

func TestCheckListen(t *testing.T) {
	tests := []struct {
		name          string
		addr          string
		tls, insecure bool
		wantErr       error
	}{
		{name: "loopback v4", addr: "127.0.0.1:2113"},
		{name: "loopback v6", addr: "[::1]:2113"},
		{name: "localhost", addr: "localhost:8080"},
		{name: "all interfaces refused", addr: "0.0.0.0:2113", wantErr: errPlaintextExposed},
		{name: "empty host is all interfaces", addr: ":2113", wantErr: errPlaintextExposed},
		{name: "public with TLS", addr: "0.0.0.0:2113", tls: true},
		{name: "public insecure by choice", addr: "0.0.0.0:2113", insecure: true},
		{name: "malformed", addr: "nonsense", wantErr: errUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkListen(tt.addr, tt.tls, tt.insecure)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("checkListen(%q) = %v, want %v", tt.addr, err, tt.wantErr)
			}
		})
	}
}
