package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/eventstore"
)

// setupActor is who the record names for users created by the command
// line or at the first start: no user exists to have done it.
const setupActor = "setup"

// errNoAdmin refuses to serve a store without any admin: nobody could
// manage users, erase a person or read the audit.
var errNoAdmin = errors.New("no admin user exists yet: create one with `continuum users add --data DIR --role admin --name NAME` " +
	"(the password is read from stdin), or start serve with --admin-password-file FILE [--admin-name NAME]")

// runUsers dispatches `continuum users add|list`.
func runUsers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: continuum users add|list [flags]")
		return errUsage
	}
	switch args[0] {
	case "add":
		return runUsersAdd(ctx, args[1:], stdout, stderr)
	case "list":
		return runUsersList(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "continuum users: unknown subcommand %q; want add or list\n", args[0])
	return errUsage
}

// userTarget is where a users command works: the store directly (the
// server stopped, or a shared KurrentDB), or a running server's API.
type userTarget struct {
	dataDir, storeURL, addr string
	api                     apiAccess
}

func (u *userTarget) register(fs *flag.FlagSet) {
	fs.StringVar(&u.dataDir, "data", "./continuum-data", "data directory of a stopped server (its embedded store)")
	fs.StringVar(&u.storeURL, "store", "", "EventStoreDB/KurrentDB connection string (esdb://…) instead of the embedded store")
	fs.StringVar(&u.addr, "addr", "", "a running server (HOST:PORT or URL) to work through its API as an admin, instead of the store")
}

// openUsers opens the store and its users for an offline command.
func openUsers(ctx context.Context, dataDir, storeURL string) (eventstore.Store, *access.Directory, error) {
	store, err := openStore(dataDir, storeURL)
	if err != nil {
		if errors.Is(err, eventstore.ErrUnavailable) && storeURL == "" {
			return nil, nil, fmt.Errorf("the data directory %s is in use by a running server: pass --addr to work through its API: %w", dataDir, err)
		}
		return nil, nil, err
	}
	users, err := access.OpenDirectory(ctx, store, access.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, users, nil
}

// runUsersAdd adds a user; the password comes from --password-file or
// the first line of stdin, never from the command line (which other
// users of the machine can read).
func runUsersAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users add", stderr)
	var target userTarget
	target.register(fs)
	target.api.register(fs)
	name := fs.String("name", "", "the user's name: lowercase letters, digits and . _ - @")
	role := fs.String("role", "", "director, clinician, analyst or admin")
	programs := fs.String("programs", "", "comma-separated program IDs a clinician is limited to; empty for every program")
	passwordFile := fs.String("password-file", "", "file whose first line is the password; without it, the first line of stdin")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	r, err := access.ParseRole(*role)
	if err != nil || *name == "" {
		fmt.Fprintln(stderr, "--name and --role (director, clinician, analyst or admin) are required")
		return errUsage
	}
	var ids []domain.ProgramID
	for _, p := range strings.Split(*programs, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ids = append(ids, domain.ProgramID(p))
		}
	}
	source := stdin
	if *passwordFile != "" {
		f, err := os.Open(*passwordFile)
		if err != nil {
			return err
		}
		defer f.Close()
		source = f
	}
	password, err := readSecret(source)
	if err != nil {
		return fmt.Errorf("reading the password: %w", err)
	}
	if target.addr != "" {
		client, err := target.api.connect(ctx, serverURL(target.addr))
		if err != nil {
			return err
		}
		defer client.close(ctx)
		body := map[string]any{"name": *name, "role": r.String(), "programs": ids, "password": password}
		if err := client.call(ctx, http.MethodPost, "/api/users", body, nil); err != nil {
			return err
		}
	} else {
		store, users, err := openUsers(ctx, target.dataDir, target.storeURL)
		if err != nil {
			return err
		}
		defer store.Close()
		defer users.Close()
		if err := users.AddUser(ctx, setupActor, access.NewUser{Name: *name, Role: r, Programs: ids, Password: password}); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "continuum users: added %s (%s)\n", *name, r)
	return nil
}

// runUsersList prints every user with their role, programs and live credentials.
func runUsersList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("users list", stderr)
	var target userTarget
	target.register(fs)
	target.api.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var list []access.UserInfo
	if target.addr != "" {
		client, err := target.api.connect(ctx, serverURL(target.addr))
		if err != nil {
			return err
		}
		defer client.close(ctx)
		var answer struct{ Users []access.UserInfo }
		if err := client.call(ctx, http.MethodGet, "/api/users", nil, &answer); err != nil {
			return err
		}
		list = answer.Users
	} else {
		store, users, err := openUsers(ctx, target.dataDir, target.storeURL)
		if err != nil {
			return err
		}
		defer store.Close()
		defer users.Close()
		list = users.Users()
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tROLE\tPROGRAMS\tSTATE\tSESSIONS+TOKENS")
	for _, u := range list {
		programs := "all"
		if len(u.Programs) > 0 {
			parts := make([]string, len(u.Programs))
			for i, p := range u.Programs {
				parts[i] = string(p)
			}
			programs = strings.Join(parts, ",")
		}
		state := "enabled"
		if u.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", u.Name, u.Role, programs, state, len(u.Credentials))
	}
	return w.Flush()
}

// ensureAdmin makes sure serve starts with an admin: one exists, or the
// --admin-password-file creates it.
func (m *Main) ensureAdmin(ctx context.Context, users *access.Directory, log *slog.Logger) error {
	if users.HasAdmin() {
		if m.AdminPasswordFile != "" {
			log.Info("an admin exists; --admin-password-file is not used")
		}
		return nil
	}
	if m.AdminPasswordFile == "" {
		return errNoAdmin
	}
	f, err := os.Open(m.AdminPasswordFile)
	if err != nil {
		return fmt.Errorf("--admin-password-file: %w", err)
	}
	defer f.Close()
	password, err := readSecret(f)
	if err != nil {
		return fmt.Errorf("--admin-password-file: %w", err)
	}
	name := m.AdminName
	if name == "" {
		name = defaultAdminName
	}
	if err := users.AddUser(ctx, setupActor, access.NewUser{Name: name, Role: access.Admin, Password: password}); err != nil {
		return fmt.Errorf("creating the first admin: %w", err)
	}
	log.Info("created the first admin", "user", name)
	return nil
}

// defaultAdminName names the admin --admin-password-file creates.
const defaultAdminName = "admin"

// demoUsers gives serve --demo one user per role, named after the role,
// with passwords drawn anew at every start and printed, so the demo can
// be signed into and an old printout opens nothing.
func demoUsers(ctx context.Context, users *access.Directory, stdout io.Writer) error {
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "continuum demo: sign in as (new passwords at every start):")
	fmt.Fprintln(w, "  ROLE\tUSER\tPASSWORD")
	for _, role := range access.Roles() {
		name := role.String()
		password, err := demoPassword()
		if err != nil {
			return err
		}
		err = users.AddUser(ctx, setupActor, access.NewUser{Name: name, Role: role, Password: password})
		if errors.Is(err, access.ErrUserExists) {
			err = users.SetPassword(ctx, setupActor, name, password)
		}
		if err != nil {
			return fmt.Errorf("demo user %s: %w", name, err)
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\n", role, name, password)
	}
	return w.Flush()
}

// demoPassword draws a password of 4 groups of 4 letters and digits
// (about 80 bits), without the easily confused ones.
func demoPassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b strings.Builder
	for i := range 16 {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String(), nil
}
