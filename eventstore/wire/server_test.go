package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/memstore"
	"github.com/continuum-care/continuum/internal/testcert"
)

func TestStatusForStoreErrors(t *testing.T) {
	s := &Server{logger: slog.New(slog.DiscardHandler)}
	tests := []struct {
		name          string
		err           error
		wantCode      codes.Code
		wantTrailer   map[string]string
		wantInMessage string
	}{
		{name: "wrong expected version", err: &eventstore.WrongExpectedVersionError{Stream: "patient-1", Expected: eventstore.StreamExists, Actual: eventstore.NoStreamRevision},
			wantCode:      codes.FailedPrecondition,
			wantTrailer:   map[string]string{"exception": "wrong-expected-version", "stream-name": "patient-1", "expected-version": "-4", "actual-version": "-1"},
			wantInMessage: "Delete failed due to WrongExpectedVersion"},
		{name: "stream deleted, wrapped", err: fmt.Errorf("%w: patient-1", eventstore.ErrStreamDeleted),
			wantCode: codes.FailedPrecondition, wantTrailer: map[string]string{"exception": "stream-deleted", "stream-name": "patient-1"}},
		{name: "stream not found", err: eventstore.ErrStreamNotFound,
			wantCode: codes.NotFound, wantTrailer: map[string]string{"exception": "stream-not-found", "stream-name": "patient-1"}},
		{name: "invalid argument", err: fmt.Errorf("%w: empty stream name", eventstore.ErrInvalidArgument),
			wantCode: codes.InvalidArgument, wantInMessage: "empty stream name"},
		{name: "unavailable", err: eventstore.ErrUnavailable, wantCode: codes.Unavailable},
		{name: "closed", err: eventstore.ErrClosed, wantCode: codes.Unavailable},
		{name: "canceled", err: context.Canceled, wantCode: codes.Canceled},
		{name: "deadline", err: fmt.Errorf("read: %w", context.DeadlineExceeded), wantCode: codes.DeadlineExceeded},
		{name: "a status passes through", err: status.Error(codes.PermissionDenied, "no"), wantCode: codes.PermissionDenied},
		{name: "anything else", err: errors.New("disk on fire"), wantCode: codes.Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.statusFor(tt.err, "patient-1")
			got := status.Convert(err)
			if got.Code() != tt.wantCode {
				t.Errorf("code = %v, want %v", got.Code(), tt.wantCode)
			}
			if tt.wantInMessage != "" && !strings.Contains(got.Message(), tt.wantInMessage) {
				t.Errorf("message = %q, want it to contain %q", got.Message(), tt.wantInMessage)
			}
			trailer := trailerOf(err)
			for key, value := range tt.wantTrailer {
				if got := trailer.Get(key); !slices.Equal(got, []string{value}) {
					t.Errorf("trailer %s = %v, want %s", key, got, value)
				}
			}
			if tt.wantTrailer == nil && trailer.Len() != 0 {
				t.Errorf("trailer = %v, want none", trailer)
			}
		})
	}
}

func TestClosedStoreAnswersUnavailable(t *testing.T) {
	client, store, _ := startMemServer(t)
	mustAppend(t, client, "patient-before", jsonEvent("Referred", `{}`))
	_ = store.Close()
	_, err := client.AppendToStream(testContext(t), "patient-after", esdb.AppendToStreamOptions{}, jsonEvent("Referred", `{}`))
	if errorCode(err) != esdb.ErrorUnavailable {
		t.Errorf("append to a closed store: %v, want unavailable", err)
	}
}

func TestGracefulStopEndsSubscriptions(t *testing.T) {
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })
	srv, addr := startServer(t, store)
	client := newClient(t, "esdb://"+addr+"?tls=false")

	sub, err := client.SubscribeToAll(testContext(t), esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	if got := next(t, sub); got.kind != "caught-up" {
		t.Fatalf("first delivery = %+v, want caught-up", got)
	}

	stopped := make(chan struct{})
	go func() {
		srv.GracefulStop()
		close(stopped)
	}()
	dropped := sub.Recv().SubscriptionDropped
	if dropped == nil || status.Code(dropped.Error) != codes.Unavailable {
		t.Errorf("subscription on shutdown: %+v, want a drop with Unavailable", dropped)
	}
	select {
	case <-stopped:
	case <-time.After(hangGuard):
		t.Fatal("GracefulStop did not return while a subscription was open")
	}
}

func TestTLS(t *testing.T) {
	certFile, keyFile := testcert.Loopback(t)
	creds, err := credentials.NewServerTLSFromFile(certFile, keyFile)
	if err != nil {
		t.Fatalf("load TLS credentials: %v", err)
	}
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })
	_, addr := startServer(t, store, WithCredentials(creds))

	t.Run("a client trusting the certificate", func(t *testing.T) {
		client := newClient(t, "esdb://"+addr+"?tls=true&tlsCAFile="+certFile)
		event := jsonEvent("Referred", `{}`)
		mustAppend(t, client, "patient-tls", event)
		got, err := drain(client.ReadStream(testContext(t), "patient-tls", esdb.ReadStreamOptions{}, 10))
		if err != nil || len(got) != 1 || got[0].EventID != event.EventID {
			t.Fatalf("read over TLS = %v, %v; want the appended event", got, err)
		}
	})
	t.Run("a plaintext client", func(t *testing.T) {
		cfg, err := esdb.ParseConnectionString("esdb://" + addr + "?tls=false&maxDiscoverAttempts=1")
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		cfg.Logger = esdb.NoopLogging()
		client, err := esdb.NewClient(cfg)
		if err != nil {
			t.Fatalf("new client: %v", err)
		}
		defer client.Close()
		if _, err := client.AppendToStream(testContext(t), "patient-plain", esdb.AppendToStreamOptions{}, jsonEvent("Referred", `{}`)); err == nil {
			t.Error("a plaintext append to a TLS server succeeded")
		}
	})
}

// TestIdleSubscriptionSurvivesClientKeepalives guards the keepalive policy:
// the v4 client pings every 10 s, and with grpc-go's default policy the
// server answers the third ping with GOAWAY (too_many_pings), dropping every
// subscription that saw no event for 30 s. It waits past that point, so it
// runs in parallel with the rest of the package and is skipped by -short.
func TestIdleSubscriptionSurvivesClientKeepalives(t *testing.T) {
	if testing.Short() {
		t.Skip("waits 35 s for the client's keepalive pings")
	}
	t.Parallel()
	client, _, _ := startMemServer(t)
	sub, err := client.SubscribeToAll(t.Context(), esdb.SubscribeToAllOptions{From: esdb.Start{}})
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer sub.Close()
	if got := next(t, sub); got.kind != "caught-up" {
		t.Fatalf("first delivery = %+v, want caught-up", got)
	}

	time.Sleep(35 * time.Second)

	event := jsonEvent("Referred", `{}`)
	mustAppend(t, client, "patient-idle", event)
	if got := next(t, sub); got != events(event.EventID)[0] {
		t.Errorf("delivery after an idle spell = %+v, want the new event", got)
	}
}
