package wire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
)

// hangGuard bounds waits that only a broken server would make endless, so a
// regression fails the test instead of stalling the whole run.
const hangGuard = 30 * time.Second

// startServer serves store on a free loopback port until the test ends and
// returns the server and its address.
func startServer(t *testing.T, store eventstore.Store, opts ...Option) (*Server, string) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	srv := NewServer(store, opts...)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	t.Cleanup(func() {
		srv.Stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, lis.Addr().String()
}

// startMemServer serves a fresh memstore and returns a client connected to it.
func startMemServer(t *testing.T) (*esdb.Client, *memstore.Store, string) {
	t.Helper()
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })
	_, addr := startServer(t, store)
	return newClient(t, "esdb://"+addr+"?tls=false"), store, addr
}

// newClient is the real v4 client, quiet.
func newClient(t *testing.T, connectionString string) *esdb.Client {
	t.Helper()
	cfg, err := esdb.ParseConnectionString(connectionString)
	if err != nil {
		t.Fatalf("parse connection string: %v", err)
	}
	cfg.Logger = esdb.NoopLogging()
	client, err := esdb.NewClient(cfg)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// dialRaw is a plain gRPC connection for the generated stubs, to send what
// the client never would.
func dialRaw(t *testing.T, addr string) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hangGuard)
	t.Cleanup(cancel)
	return ctx
}

func jsonEvent(eventType, body string) esdb.EventData {
	return esdb.EventData{
		EventID:     uuid.New(),
		EventType:   eventType,
		ContentType: esdb.ContentTypeJson,
		Data:        []byte(body),
	}
}

func jsonEvents(eventType string, n int) []esdb.EventData {
	events := make([]esdb.EventData, n)
	for i := range events {
		events[i] = jsonEvent(eventType, fmt.Sprintf(`{"n":%d}`, i))
	}
	return events
}

// drain reads a client read to its end.
func drain(read *esdb.ReadStream, err error) ([]*esdb.RecordedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer read.Close()
	var events []*esdb.RecordedEvent
	for {
		resolved, err := read.Recv()
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, err
		}
		events = append(events, resolved.OriginalEvent())
	}
}

func mustAppend(t *testing.T, client *esdb.Client, stream string, events ...esdb.EventData) *esdb.WriteResult {
	t.Helper()
	result, err := client.AppendToStream(testContext(t), stream, esdb.AppendToStreamOptions{}, events...)
	if err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
	return result
}

// errorCode is the client's classification of err, or -1 when err is not
// the client's error type.
func errorCode(err error) esdb.ErrorCode {
	var esdbErr *esdb.Error
	if errors.As(err, &esdbErr) {
		return esdbErr.Code()
	}
	return -1
}

func eventIDs(events []*esdb.RecordedEvent) []uuid.UUID {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.EventID
	}
	return ids
}

func dataIDs(events []esdb.EventData) []uuid.UUID {
	ids := make([]uuid.UUID, len(events))
	for i, e := range events {
		ids[i] = e.EventID
	}
	return ids
}

func reversed[T any](in []T) []T {
	out := make([]T, len(in))
	for i, v := range in {
		out[len(in)-1-i] = v
	}
	return out
}
