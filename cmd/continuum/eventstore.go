package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/eventstore/wire"
	"google.golang.org/grpc/credentials"
)

// runEventstore serves the embedded store with the EventStoreDB protocol, so
// any EventStoreDB client (and `serve --store esdb://…`) can use it.
func runEventstore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eventstore", stderr)
	listen := fs.String("listen", "127.0.0.1:2113", "address to listen on")
	dataDir := fs.String("data", "./continuum-data/eventstore", "data directory of the embedded store")
	certFile := fs.String("tls-cert", "", "TLS certificate (PEM) to serve TLS")
	keyFile := fs.String("tls-key", "", "TLS private key (PEM)")
	insecure := fs.Bool("insecure", false, "allow plaintext on a non-loopback address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if (*certFile == "") != (*keyFile == "") {
		return fmt.Errorf("%w: --tls-cert and --tls-key go together", errUsage)
	}
	useTLS := *certFile != ""
	if err := checkListen(*listen, useTLS, *insecure); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	var opts []wire.Option
	opts = append(opts, wire.WithLogger(logger))
	if useTLS {
		creds, err := credentials.NewServerTLSFromFile(*certFile, *keyFile)
		if err != nil {
			return fmt.Errorf("loading TLS key pair: %w", err)
		}
		opts = append(opts, wire.WithCredentials(creds))
	}
	store, err := bolt.Open(*dataDir, bolt.Options{})
	if err != nil {
		return err
	}
	defer store.Close()
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := wire.NewServer(store, opts...)
	scheme := "esdb://%s?tls=false"
	if useTLS {
		scheme = "esdb://%s?tls=true"
	}
	fmt.Fprintf(stdout, "continuum eventstore: serving %s on "+scheme+"\n", *dataDir, lis.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		srv.GracefulStop()
		<-errc
		return nil
	}
}
