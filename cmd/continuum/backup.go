package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/continuum-care/continuum/eventstore"
	"github.com/continuum-care/continuum/eventstore/bolt"
	"github.com/continuum-care/continuum/internal/durable"
	"github.com/continuum-care/continuum/web"
)

// runBackup downloads a consistent copy of a running server's embedded
// store, verifies it and only then puts it in place.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "the running server: HOST:PORT as given to serve --addr, or its base URL (http://…, https://…); backups are an admin's")
	var api apiAccess
	api.register(fs)
	out := fs.String("out", "", "file to write the copy to; it is replaced only once the new copy is verified and on disk")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fmt.Fprintln(stderr, "--out is required")
		fs.Usage()
		return errUsage
	}
	client, err := api.connect(ctx, serverURL(*addr))
	if err != nil {
		return err
	}
	defer client.close(ctx)
	sum, err := downloadBackup(ctx, client, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "continuum backup: wrote %s: %d events up to position %s, %d bytes, verified\n",
		*out, sum.Events, web.FormatPosition(sum.Last), sum.Bytes)
	return nil
}

// serverURL turns serve's HOST:PORT into a base URL; a URL stays as it is.
func serverURL(addr string) string {
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return strings.TrimSuffix(addr, "/")
	}
	return "http://" + addr
}

// downloadBackup streams the copy into a temporary file beside out,
// fsyncs and verifies it (whole, consistent, its size what the store's
// data claims), then renames it over out and fsyncs the directory: out is
// always either the previous backup or a complete new one.
func downloadBackup(ctx context.Context, client *apiClient, out string) (bolt.Summary, error) {
	req, err := client.request(ctx, http.MethodGet, web.BackupPath, nil)
	if err != nil {
		return bolt.Summary{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return bolt.Summary{}, fmt.Errorf("asking the server for a backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return bolt.Summary{}, fmt.Errorf("the server refused the backup: %s", refusal(resp))
	}
	path, n, err := stageFile(filepath.Dir(out), filepath.Base(out), resp.Body)
	if err != nil {
		return bolt.Summary{}, fmt.Errorf("downloading the backup: %w", err)
	}
	sum, err := bolt.Verify(path)
	if err == nil && sum.Bytes != n {
		err = fmt.Errorf("the download has %d bytes, the copy's data %d", n, sum.Bytes)
	}
	if err != nil {
		os.Remove(path)
		return bolt.Summary{}, fmt.Errorf("the downloaded copy is not usable, %s is unchanged: %w", out, err)
	}
	if err := os.Rename(path, out); err != nil {
		os.Remove(path)
		return bolt.Summary{}, err
	}
	return sum, durable.SyncDir(filepath.Dir(out))
}

// refusal describes an error answer by its status and the API's message.
func refusal(resp *http.Response) string {
	var body struct {
		Error struct{ Code, Message string }
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err != nil || body.Error.Message == "" {
		return resp.Status
	}
	return fmt.Sprintf("%s: %s (%s)", resp.Status, body.Error.Message, body.Error.Code)
}

// stageFile copies src into a new temporary file in dir, named after name,
// and fsyncs it. It returns the file's path and size; on error nothing is
// left behind.
func stageFile(dir, name string, src io.Reader) (path string, n int64, err error) {
	f, err := os.CreateTemp(dir, "."+name+".part-*")
	if err != nil {
		return "", 0, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if n, err = io.Copy(f, src); err != nil {
		return "", n, err
	}
	if err = f.Sync(); err != nil {
		return "", n, err
	}
	if err = f.Close(); err != nil {
		return "", n, err
	}
	return f.Name(), n, nil
}

// backupOf offers the store's consistent copy to the web server when the
// store is the embedded one; a KurrentDB cluster has its own backups.
func backupOf(store eventstore.Store) web.Backuper {
	if s, ok := store.(*bolt.Store); ok {
		return s
	}
	return nil
}
