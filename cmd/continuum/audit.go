package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
)

// runAudit prints the access audit, newest first: offline from the store,
// or through a running server's API as an admin.
func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("audit", stderr)
	var target userTarget
	target.register(fs)
	target.api.register(fs)
	patient := fs.String("patient", "", "only the accesses to this patient ID")
	who := fs.String("user", "", "only the accesses by this user")
	action := fs.String("action", "", "only this action (SignedIn, SignInFailed, PatientViewed, PersonErased, …)")
	limit := fs.Int("limit", 100, "at most this many entries, newest first (1 to 10000)")
	asJSON := fs.Bool("json", false, "print one JSON object per entry")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	q := access.Query{User: *who, Limit: *limit}
	if *patient != "" {
		id, err := domain.ParsePatientID(*patient)
		if err != nil {
			return fmt.Errorf("%w: --patient: %v", errUsage, err)
		}
		q.Patient = string(id)
	}
	if *action != "" {
		a, err := access.ParseAction(*action)
		if err != nil {
			return fmt.Errorf("%w: --action: %v", errUsage, err)
		}
		q.Action = a
	}
	if *limit < 1 || *limit > access.MaxQueryLimit {
		return fmt.Errorf("%w: --limit is 1 to %d", errUsage, access.MaxQueryLimit)
	}
	var records []access.Record
	if target.addr != "" {
		client, err := target.api.connect(ctx, serverURL(target.addr))
		if err != nil {
			return err
		}
		defer client.close(ctx)
		params := url.Values{"limit": {strconv.Itoa(q.Limit)}}
		for k, v := range map[string]string{"patient": q.Patient, "user": q.User, "action": string(q.Action)} {
			if v != "" {
				params.Set(k, v)
			}
		}
		var answer struct{ Entries []access.Record }
		if err := client.call(ctx, http.MethodGet, "/api/audit?"+params.Encode(), nil, &answer); err != nil {
			return err
		}
		records = answer.Entries
	} else {
		store, err := openStore(target.dataDir, target.storeURL)
		if err != nil {
			return err
		}
		defer store.Close()
		audit := access.NewAudit(store, nil)
		if q.Patient != "" {
			// Reading a person's accesses is itself an access, here as
			// through the API.
			if err := audit.Record(ctx, localEntry(access.AuditViewed, "continuum audit", q.Patient)); err != nil {
				return err
			}
		}
		if records, err = audit.Query(ctx, q); err != nil {
			return err
		}
	}
	return printAudit(stdout, records, *asJSON)
}

// localEntry is an audit entry for something done on this machine without
// the API (route names the command): the actor is the operating-system
// account, marked "local:", since no user of continuum signed in.
func localEntry(action access.Action, route, patient string) access.Entry {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return access.Entry{Action: action, User: "local:" + name, Route: route, Patients: []string{patient}}
}

// printAudit writes records as a table or as JSON lines.
func printAudit(w io.Writer, records []access.Record, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range records {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WHEN (UTC)\tACTION\tUSER\tROLE\tROUTE\tPATIENTS\tFROM\tOUTCOME/DETAIL")
	for _, r := range records {
		role := ""
		if r.Role.Valid() {
			role = r.Role.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.At.UTC().Format(time.DateTime), r.Action, r.User, role, r.Route,
			strings.Join(r.Patients, ","), r.Remote, strings.TrimSpace(r.Outcome+" "+r.Detail))
	}
	return tw.Flush()
}
