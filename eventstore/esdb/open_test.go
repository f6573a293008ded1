package esdb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/eventstore"
)

func TestOpenRefusesBadConnectionStringsWithoutTheirSecrets(t *testing.T) {
	tests := []struct {
		name string
		cs   string
		// secrets must not appear in the error.
		secrets []string
	}{
		{"unknown scheme", "http://admin:changeit@localhost:2113", []string{"changeit"}},
		{"password mistaken for a port", "esdb://admin:s3cr/et@localhost:2113", []string{"s3cr", "s3cr/et"}},
		{"invalid character", "esdb://admin:pa ss^word@localhost:2113", []string{"pa ss^word", "ss^word"}},
		{"escaped password", "esdb://admin:p%40ss%20w0rd@node1:2113/extra?tls=false", []string{"p%40ss%20w0rd", "p@ss w0rd"}},
		{"bad setting", "esdb://admin:hunter2hunter2@localhost:2113?nodePreference=nearest", []string{"hunter2hunter2"}},
		{"empty username", "esdb://:topsecret@localhost:2113", []string{"topsecret"}},
		{"bad port in a cluster", "esdb://admin:clusterpass@node1:2113,node2:x", []string{"clusterpass"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.cs)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", tt.cs)
			}
			if !errors.Is(err, eventstore.ErrInvalidArgument) {
				t.Fatalf("Open error %v, want ErrInvalidArgument", err)
			}
			for _, secret := range tt.secrets {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("Open error %q contains the secret %q", err, secret)
				}
			}
		})
	}
}

func TestOpenAcceptsWhatTheClientSupports(t *testing.T) {
	tests := []struct {
		name string
		cs   string
	}{
		{"single node without TLS", "esdb://localhost:2113?tls=false"},
		{"credentials and TLS", "esdb://admin:changeit@localhost:2113?tlsVerifyCert=false"},
		{"gossip seeds", "esdb://admin:changeit@node1:2113,node2:2113,node3:2113?nodePreference=follower"},
		{"DNS discovery", "esdb+discover://admin:changeit@cluster.example.com:2113?keepAliveInterval=10000&defaultDeadline=5000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(tt.cs)
			if err != nil {
				t.Fatalf("Open(%q): %v", tt.cs, err)
			}
			if err := s.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

func TestOpenChecksTheBackoff(t *testing.T) {
	tests := []struct {
		name     string
		min, max time.Duration
		wantErr  bool
	}{
		{"ordinary", 50 * time.Millisecond, 5 * time.Second, false},
		{"fixed delay", time.Second, time.Second, false},
		{"zero minimum", 0, time.Second, true},
		{"maximum below minimum", time.Second, time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open("esdb://localhost:2113?tls=false", WithResumeBackoff(tt.min, tt.max))
			if tt.wantErr {
				if !errors.Is(err, eventstore.ErrInvalidArgument) {
					t.Fatalf("Open error %v, want ErrInvalidArgument", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			_ = s.Close()
		})
	}
}

func TestRedactSecrets(t *testing.T) {
	tests := []struct {
		name    string
		message string
		cs      string
		want    string
	}{
		{"no credentials", `invalid port ":x"`, "esdb://localhost:x", `invalid port ":x"`},
		{"userinfo", `bad "admin:pw1234"`, "esdb://admin:pw1234@h", `bad "****"`},
		{"password alone", `invalid port ":pw1234"`, "esdb://admin:pw1234@h", `invalid port ":****"`},
		{"unescaped password", "got p@ss", "esdb://admin:p%40ss@h", "got ****"},
		{"quoted password", `got "p\"ss"`, `esdb://admin:p"ss@h`, `got "****"`},
		{"no scheme separator", "whatever", "admin:pw@h", "whatever"},
		{"piece of a password", `invalid port ":pw12" after host`, "esdb://admin:pw12/34@h", `invalid port ":****" after host`},
		{"short piece withholds the message", `invalid port ":pw" after host`, "esdb://admin:pw/1234@h", withheldDetail},
		{"short password elsewhere is left alone", `unsupported URL path: /x`, "esdb://admin:pw@h/x", `unsupported URL path: /x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redactSecrets(tt.message, tt.cs); got != tt.want {
				t.Fatalf("redactSecrets(%q) = %q, want %q", tt.message, got, tt.want)
			}
		})
	}
}
