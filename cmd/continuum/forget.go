package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/privacy"
)

// runForget erases a person by destroying their key (crypto-shredding):
// through a running server's API as an admin (--addr), or offline on a
// stopped server's data directory, whose key store a running server holds.
// The erasure is audited before the key goes.
func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("forget", stderr)
	var target userTarget
	target.register(fs)
	target.api.register(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: continuum forget [flags] PATIENT_ID")
		fs.PrintDefaults()
	}
	// The patient ID may come before or after the flags.
	var positional []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if len(positional) != 1 {
		fs.Usage()
		return errUsage
	}
	id, err := domain.ParsePatientID(positional[0])
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if target.addr != "" {
		client, err := target.api.connect(ctx, serverURL(target.addr))
		if err != nil {
			return err
		}
		defer client.close(ctx)
		var answer struct{ AlreadyErased bool }
		if err := client.call(ctx, http.MethodPost, "/api/patients/"+string(id)+"/erase", nil, &answer); err != nil {
			return err
		}
		reportErasure(stdout, id, answer.AlreadyErased)
		return nil
	}
	already, err := forgetOffline(ctx, target.dataDir, target.storeURL, id)
	if err != nil {
		return err
	}
	reportErasure(stdout, id, already)
	return nil
}

// forgetOffline erases a person with the key store and the store opened
// here: it fails if a running server holds them.
func forgetOffline(ctx context.Context, dataDir, storeURL string, id domain.PatientID) (already bool, err error) {
	keys, err := privacy.OpenKeyStore(filepath.Join(dataDir, keysFile))
	if err != nil {
		return false, fmt.Errorf("the key store in %s is held by a running server (or unreadable): erase through its API with --addr: %w", dataDir, err)
	}
	defer closeInto(&err, "key store", keys.Close)
	store, err := openStore(dataDir, storeURL)
	if err != nil {
		return false, err
	}
	defer closeInto(&err, "event store", store.Close)
	already, err = keys.Forgotten(string(id))
	if err != nil {
		return false, err
	}
	if already {
		_, err := store.ReadStream(ctx, domain.PatientStream(id), eventstore.ReadStreamOptions{Max: 1})
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return false, fmt.Errorf("no patient %s in this store", id)
		}
		if err != nil {
			return false, err
		}
	}
	audit := access.NewAudit(store, nil)
	if err := audit.Record(ctx, localEntry(access.PersonErased, "continuum forget", string(id))); err != nil {
		return false, fmt.Errorf("the erasure could not be audited, so the key is kept: %w", err)
	}
	if err := keys.Forget(string(id)); err != nil {
		failed := localEntry(access.PersonErased, "continuum forget", string(id))
		failed.Outcome = "failed"
		return false, errors.Join(fmt.Errorf("destroying the key: %w", err), audit.Record(ctx, failed))
	}
	return already, nil
}

// reportErasure says what happened.
func reportErasure(w io.Writer, id domain.PatientID, already bool) {
	what := "erased: their key is destroyed; every view now shows them as erased"
	if already {
		what = "was already erased (or never had personal data); recorded again"
	}
	fmt.Fprintf(w, "continuum forget: %s %s\n", id, strings.TrimSpace(what))
}
