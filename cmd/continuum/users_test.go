package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// withStdin makes commands read s as their standard input for the test.
func withStdin(t *testing.T, s string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(s)
	t.Cleanup(func() { stdin = old })
}

// signInStatus signs in through the API and answers the status.
func signInStatus(t *testing.T, base, name, password string) int {
	t.Helper()
	body := `{"name":"` + name + `","password":"` + password + `"}`
	resp, err := http.Post(base+"/api/auth/signin", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// runMain runs Main until it listens (answering its base URL; it stops
// with the test) or fails (answering the error).
func runMain(t *testing.T, m *Main) (string, error) {
	t.Helper()
	base, _, err := runMainStoppable(t, m)
	return base, err
}

// runMainStoppable is runMain with the function that stops the server.
func runMainStoppable(t *testing.T, m *Main) (string, func(), error) {
	t.Helper()
	m.ListenAddr = "127.0.0.1:0"
	m.Location = time.UTC
	m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	select {
	case <-m.Listening():
		var once sync.Once
		stop := func() { once.Do(func() { cancel(); <-done }) }
		t.Cleanup(stop)
		return "http://" + m.Addr().String(), stop, nil
	case err := <-done:
		cancel()
		return "", func() {}, err
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("serve neither listened nor failed")
		return "", nil, nil
	}
}

func TestServeNeedsAnAdmin(t *testing.T) {
	dir := t.TempDir()
	if _, err := runMain(t, &Main{DataDir: dir}); !errors.Is(err, errNoAdmin) || !strings.Contains(err.Error(), "continuum users add") {
		t.Fatalf("serve on a store without an admin: %v, want errNoAdmin saying how to add one", err)
	}
	passwordFile := filepath.Join(t.TempDir(), "admin-password")
	if err := os.WriteFile(passwordFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base, err := runMain(t, &Main{DataDir: dir, AdminPasswordFile: passwordFile, AdminName: "chief"})
	if err != nil {
		t.Fatalf("serve with --admin-password-file: %v", err)
	}
	if status := signInStatus(t, base, "chief", testPassword); status != http.StatusOK {
		t.Fatalf("the first admin cannot sign in: %d", status)
	}
	if status := signInStatus(t, base, "chief", "not the password"); status != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", status)
	}
}

// TestServeDemoPrintsUsers runs serve --demo with a simulator that does
// nothing: one user per role, with passwords printed, new at every start.
func TestServeDemoPrintsUsers(t *testing.T) {
	saved := demo
	demo = demoRunner{
		History: func(context.Context, DemoEnv) error { return nil },
		Live:    func(ctx context.Context, _ DemoEnv) error { <-ctx.Done(); return nil },
	}
	t.Cleanup(func() { demo = saved })
	dir := t.TempDir()
	printed := regexp.MustCompile(`(?m)^\s+(director|clinician|analyst|admin)\s+(\S+)\s+(\S+)$`)
	passwords := func() map[string]string {
		t.Helper()
		out := &lockedBuffer{}
		m := &Main{DataDir: dir, Demo: true, Stdout: out}
		base, stop, err := runMainStoppable(t, m)
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		got := map[string]string{}
		for _, match := range printed.FindAllStringSubmatch(out.String(), -1) {
			got[match[2]] = match[3]
			if status := signInStatus(t, base, match[2], match[3]); status != http.StatusOK {
				t.Errorf("demo user %s cannot sign in with the printed password: %d", match[2], status)
			}
		}
		if len(got) != 4 {
			t.Fatalf("printed %q, want four users", out.String())
		}
		return got
	}
	first := passwords()
	second := passwords()
	for user, pw := range first {
		if second[user] == pw {
			t.Errorf("%s kept the password of the last start", user)
		}
	}
}

func TestUsersAndTokenCommands(t *testing.T) {
	dir := t.TempDir()
	withStdin(t, testPassword+"\n")
	if code, stdout, stderr := runCommand(t, "users", "add", "--data", dir, "--name", "root", "--role", "admin"); code != 0 || !strings.Contains(stdout, "added root") {
		t.Fatalf("users add with the password on stdin: exit %d: %s %s", code, stdout, stderr)
	}
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte(testPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		output string
	}{
		{name: "a clinician of two programs", args: []string{"users", "add", "--data", dir, "--name", "ines", "--role", "clinician", "--programs", "php,iop-morning", "--password-file", passwordFile}, code: 0},
		{name: "a taken name", args: []string{"users", "add", "--data", dir, "--name", "ines", "--role", "director", "--password-file", passwordFile}, code: 1, output: "exists"},
		{name: "an unknown role", args: []string{"users", "add", "--data", dir, "--name", "x", "--role", "root", "--password-file", passwordFile}, code: 2},
		{name: "programs for an analyst", args: []string{"users", "add", "--data", dir, "--name", "ana", "--role", "analyst", "--programs", "php", "--password-file", passwordFile}, code: 1, output: "only clinicians"},
		{name: "the list", args: []string{"users", "list", "--data", dir}, code: 0, output: "iop-morning,php"},
		{name: "a token for nobody", args: []string{"token", "create", "--data", dir, "--user", "nobody"}, code: 1, output: "no such user"},
		{name: "no subcommand", args: []string{"users"}, code: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCommand(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout+stderr, tc.output) {
				t.Fatalf("exit %d: %s%s; want %d and %q", code, stdout, stderr, tc.code, tc.output)
			}
		})
	}
	code, token, stderr := runCommand(t, "token", "create", "--data", dir, "--user", "ines", "--label", "script", "--days", "7")
	token = strings.TrimSpace(token)
	if code != 0 || strings.Count(token, ".") < 1 || !strings.Contains(stderr, "shown only now") {
		t.Fatalf("token create: exit %d: %q %s", code, token, stderr)
	}

	base, err := runMain(t, &Main{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/patients", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the offline token against the server: %d", resp.StatusCode)
	}

	t.Run("the store is the server's while it runs", func(t *testing.T) {
		code, _, stderr := runCommand(t, "users", "add", "--data", dir, "--name", "late", "--role", "director", "--password-file", passwordFile)
		if code != 1 || !strings.Contains(stderr, "--addr") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("through the API, signed in as the admin", func(t *testing.T) {
		withStdin(t, testPassword+"\n")
		code, stdout, stderr := runCommand(t, "users", "add", "--addr", base, "--as", "root", "--name", "late", "--role", "director", "--password-file", passwordFile)
		if code != 0 {
			t.Fatalf("users add --addr: exit %d: %s %s", code, stdout, stderr)
		}
		withStdin(t, testPassword+"\n")
		code, token, stderr := runCommand(t, "token", "create", "--addr", base, "--as", "root", "--user", "late")
		if code != 0 || strings.TrimSpace(token) == "" {
			t.Fatalf("token create --addr: exit %d: %s", code, stderr)
		}
		withStdin(t, testPassword+"\n")
		if code, stdout, stderr := runCommand(t, "users", "list", "--addr", base, "--as", "root"); code != 0 || !strings.Contains(stdout, "late") {
			t.Fatalf("users list --addr: exit %d: %s %s", code, stdout, stderr)
		}
	})
	t.Run("through the API without a credential", func(t *testing.T) {
		t.Setenv(tokenEnv, "")
		if code, _, stderr := runCommand(t, "users", "list", "--addr", base); code != 1 || !strings.Contains(stderr, "--token-file") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
	t.Run("through the API as a clinician", func(t *testing.T) {
		t.Setenv(tokenEnv, token)
		if code, _, stderr := runCommand(t, "users", "list", "--addr", base); code != 1 || !strings.Contains(stderr, "forbidden_for_role") {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	})
}
