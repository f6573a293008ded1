package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/continuum-care/continuum/access"
)

// runToken dispatches `continuum token create`.
func runToken(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprintln(stderr, "usage: continuum token create --user NAME [--label TEXT] [--days N] (--data DIR | --store URL | --addr URL)")
		return errUsage
	}
	fs := newFlagSet("token create", stderr)
	var target userTarget
	target.register(fs)
	target.api.register(fs)
	owner := fs.String("user", "", "the user the token acts as")
	label := fs.String("label", "", "what the token is for, shown in the users' listing")
	days := fs.Int("days", 0, "days the token lasts, 1 to 366; 0 for the default of 90")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *owner == "" || *days < 0 || *days > 366 {
		fmt.Fprintln(stderr, "--user NAME is required, and --days is 0 to 366")
		return errUsage
	}
	var token string
	var expires time.Time
	if target.addr != "" {
		client, err := target.api.connect(ctx, serverURL(target.addr))
		if err != nil {
			return err
		}
		defer client.close(ctx)
		var answer struct {
			Token      string
			Credential access.CredentialInfo
		}
		if err := client.call(ctx, http.MethodPost, "/api/users/"+*owner+"/tokens", map[string]any{"label": *label, "ttlDays": *days}, &answer); err != nil {
			return err
		}
		token, expires = answer.Token, answer.Credential.ExpiresAt
	} else {
		store, users, err := openUsers(ctx, target.dataDir, target.storeURL)
		if err != nil {
			return err
		}
		defer store.Close()
		defer users.Close()
		id, t, err := users.IssueToken(ctx, setupActor, *owner, *label, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return err
		}
		token, expires = t, id.ExpiresAt
	}
	// The token alone on stdout, so it can be piped into a file; the
	// note goes to stderr.
	fmt.Fprintln(stdout, token)
	fmt.Fprintf(stderr, "continuum token: a token for %s until %s; it is shown only now, keep it like a password\n",
		*owner, expires.UTC().Format(time.RFC3339))
	return nil
}
