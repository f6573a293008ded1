package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/continuum-care/continuum/web"
)

// stdin is where commands read a password from; tests replace it.
var stdin io.Reader = os.Stdin

// tokenEnv names the environment variable holding an API token, for
// commands that talk to a running server.
const tokenEnv = "CONTINUUM_TOKEN"

// apiAccess is how a command reaches a running server's API as a user:
// with an API token (--token-file, or $CONTINUUM_TOKEN), or by signing in
// --as a user with the password read from stdin.
type apiAccess struct {
	tokenFile string
	as        string
}

// register adds the access flags to fs; the command adds its own --addr.
func (a *apiAccess) register(fs *flag.FlagSet) {
	fs.StringVar(&a.tokenFile, "token-file", "", "file whose first line is an API token (or set $"+tokenEnv+")")
	fs.StringVar(&a.as, "as", "", "sign in as this user instead of using a token; the password is read from stdin")
}

// apiClient sends authenticated requests to one server.
type apiClient struct {
	base string
	// header authenticates every request: a bearer token, or a session
	// cookie and its CSRF token.
	header http.Header
	// session is set when the client signed in, so close signs out.
	session bool
}

// connect answers a client for the server at base, signing in first when
// --as is given.
func (a *apiAccess) connect(ctx context.Context, base string) (*apiClient, error) {
	c := &apiClient{base: base, header: http.Header{}}
	if a.as != "" {
		password, err := readSecret(stdin)
		if err != nil {
			return nil, fmt.Errorf("reading %s's password from stdin: %w", a.as, err)
		}
		var session struct{ CSRFToken string }
		resp, err := c.send(ctx, http.MethodPost, "/api/auth/signin", map[string]string{"name": a.as, "password": password}, &session)
		if err != nil {
			return nil, fmt.Errorf("signing in as %s: %w", a.as, err)
		}
		for _, cookie := range resp.Cookies() {
			if cookie.Name == web.SessionCookie {
				c.header.Set("Cookie", cookie.Name+"="+cookie.Value)
			}
		}
		c.header.Set(web.CSRFHeader, session.CSRFToken)
		c.session = true
		return c, nil
	}
	token := strings.TrimSpace(os.Getenv(tokenEnv))
	if a.tokenFile != "" {
		b, err := os.ReadFile(a.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		token, _, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		token = strings.TrimSpace(token)
	}
	if token == "" {
		return nil, fmt.Errorf("the server needs a credential: --token-file FILE (or $%s), or --as NAME with the password on stdin", tokenEnv)
	}
	c.header.Set("Authorization", "Bearer "+token)
	return c, nil
}

// close signs out a session the client opened.
func (c *apiClient) close(ctx context.Context) {
	if c.session {
		c.call(ctx, http.MethodPost, "/api/auth/signout", nil, nil)
	}
}

// request builds an authenticated request with an optional JSON body.
func (c *apiClient) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, fmt.Errorf("%w: --addr: %v", errUsage, err)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// send makes a request and decodes a successful answer into out; a
// refusal becomes an error with the API's status and message.
func (c *apiClient) send(ctx context.Context, method, path string, body, out any) (*http.Response, error) {
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("reaching the server: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return resp, errors.New(refusal(resp))
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp, fmt.Errorf("reading the server's answer: %w", err)
		}
	}
	return resp, nil
}

// call is send without the response.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	_, err := c.send(ctx, method, path, body, out)
	return err
}

// readSecret reads one line (a password or token) from r.
func readSecret(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
