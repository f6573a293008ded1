package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
)

// TestEventstoreCommandServesTheRealClient runs `continuum eventstore` on a
// free port and drives it with the unmodified EventStore-Client-Go client.
func TestEventstoreCommandServesTheRealClient(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"eventstore", "--listen", "127.0.0.1:0", "--data", t.TempDir()}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("eventstore exited %d", code)
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, pr)
	i := strings.Index(line, "esdb://")
	if i < 0 {
		t.Fatalf("no connection string in %q", line)
	}
	conf, err := esdb.ParseConnectionString(strings.TrimSpace(line[i:]))
	if err != nil {
		t.Fatal(err)
	}
	conf.Logger = esdb.NoopLogging()
	client, err := esdb.NewClient(conf)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	defer ccancel()

	sub, err := client.SubscribeToAll(cctx, esdb.SubscribeToAllOptions{
		From:   esdb.Start{},
		Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"patient-"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()

	event := func(typ string) esdb.EventData {
		return esdb.EventData{EventID: uuid.New(), ContentType: esdb.ContentTypeJson, EventType: typ, Data: []byte(`{}`)}
	}
	first := event("Referred")
	if _, err := client.AppendToStream(cctx, "patient-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, first); err != nil {
		t.Fatal(err)
	}
	// The same event ID again at the same expected revision: idempotent.
	if _, err := client.AppendToStream(cctx, "patient-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, first); err != nil {
		t.Fatalf("idempotent re-append: %v", err)
	}
	_, err = client.AppendToStream(cctx, "patient-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(5)}, event("Admitted"))
	if esErr, ok := esdb.FromError(err); ok || esErr.Code() != esdb.ErrorCodeWrongExpectedVersion {
		t.Fatalf("append at a wrong revision = %v, want wrong expected version", err)
	}
	if _, err := client.AppendToStream(cctx, "group-x", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, event("GroupCreated")); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppendToStream(cctx, "patient-1", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(0)}, event("Admitted")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for len(got) < 2 {
		e := sub.Recv()
		if e.SubscriptionDropped != nil {
			t.Fatalf("subscription dropped: %v", e.SubscriptionDropped.Error)
		}
		if e.EventAppeared != nil {
			got = append(got, fmt.Sprintf("%s@%d", e.EventAppeared.Event.EventType, e.EventAppeared.Event.EventNumber))
		}
	}
	if strings.Join(got, ",") != "Referred@0,Admitted@1" {
		t.Fatalf("prefix-filtered subscription saw %v", got)
	}
	back, err := client.ReadStream(cctx, "patient-1", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	ev, err := back.Recv()
	if err != nil || ev.Event.EventType != "Admitted" {
		t.Fatalf("backwards read first = %v, %v", ev, err)
	}
	if _, err := client.TombstoneStream(cctx, "group-x", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}}); err != nil {
		t.Fatal(err)
	}
	_, err = client.AppendToStream(cctx, "group-x", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}}, event("GroupChanged"))
	if esErr, _ := esdb.FromError(err); err == nil || esErr.Code() != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("append to a tombstoned stream = %v, want stream deleted", err)
	}
	if errors.Is(cctx.Err(), context.DeadlineExceeded) {
		t.Fatal("timed out")
	}
}
