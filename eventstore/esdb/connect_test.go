package esdb_test

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"testing"

	"github.com/google/uuid"
	"google.golang.org/grpc/credentials"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/eventstore/wire"
	"github.com/continuum-care/continuum/internal/testcert"
)

// roundTrip appends to a new stream through s and reads it back.
func roundTrip(t *testing.T, s eventstore.Store) {
	t.Helper()
	stream := "connect-" + uuid.NewString()
	written := event(1)
	if _, err := s.Append(t.Context(), stream, eventstore.NoStream, written); err != nil {
		t.Fatalf("append: %v", err)
	}
	got, err := s.ReadStream(t.Context(), stream, eventstore.ReadStreamOptions{})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if len(got) != 1 || got[0].ID != written.ID || string(got[0].Metadata) != string(written.Metadata) {
		t.Fatalf("read back %+v, want the event written", got)
	}
}

func TestConnectionStringsReachTheServer(t *testing.T) {
	tests := []struct {
		name string
		// connectionString builds the connection string for a server at addr.
		connectionString func(addr string) string
	}{
		{"single node", func(addr string) string { return "esdb://" + addr + "?tls=false" }},
		{"gossip seeds", func(addr string) string { return "esdb://" + addr + "," + freeAddress(t) + "?tls=false" }},
		{"DNS discovery", func(addr string) string { return "esdb+discover://" + addr + "?tls=false" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backing := memstore.New()
			t.Cleanup(func() { _ = backing.Close() })
			srv := serve(t, backing, "127.0.0.1:0")
			roundTrip(t, openStore(t, tt.connectionString(srv.addr)))
		})
	}
}

// selfSigned returns server TLS credentials for 127.0.0.1 and the path of
// the certificate, for the client to trust.
func selfSigned(t *testing.T) (credentials.TransportCredentials, string) {
	t.Helper()
	certFile, keyFile := testcert.Loopback(t)
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("key pair: %v", err)
	}
	return credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}), certFile
}

func TestTLSWithCredentials(t *testing.T) {
	creds, certPath := selfSigned(t)
	backing := memstore.New()
	t.Cleanup(func() { _ = backing.Close() })
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := wire.NewServer(backing, wire.WithCredentials(creds), wire.WithLogger(slog.New(slog.DiscardHandler)))
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-served
	})

	password := url.QueryEscape("s3cret p@ss")
	tests := []struct {
		name    string
		cs      string
		wantErr error
	}{
		{"trusted CA", "esdb://admin:" + password + "@" + lis.Addr().String() + "?tlsCAFile=" + url.QueryEscape(certPath), nil},
		{"verification off", "esdb://admin:" + password + "@" + lis.Addr().String() + "?tlsVerifyCert=false", nil},
		// The default: the system roots do not know the test CA.
		{"unknown CA", "esdb://admin:" + password + "@" + lis.Addr().String() + "?maxDiscoverAttempts=1&discoveryInterval=10", eventstore.ErrUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t, tt.cs)
			if tt.wantErr == nil {
				roundTrip(t, s)
				return
			}
			_, err := s.ReadStream(t.Context(), "connect-1", eventstore.ReadStreamOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("read through an untrusted certificate: %v, want %v", err, tt.wantErr)
			}
		})
	}
}
