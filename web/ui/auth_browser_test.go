package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/eventstore"
)

// The users of every test app, one per role, and their password.
const (
	clinicianUser = "cleo"
	directorUser  = "dana"
	analystUser   = "ana"
	adminUser     = "adam"
	userPassword  = "a long test password"
)

// appUsers are an app's users, their API tokens and the audit.
type appUsers struct {
	directory *access.Directory
	audit     *access.Audit
	tokens    map[string]string
}

// newAppUsers adds a user of each role to store.
func newAppUsers(t *testing.T, store eventstore.Store, clock func() time.Time) *appUsers {
	t.Helper()
	ctx := context.Background()
	directory, err := access.OpenDirectory(ctx, store, access.Options{Clock: clock, Password: access.PasswordParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(directory.Close)
	u := &appUsers{directory: directory, audit: access.NewAudit(store, clock), tokens: map[string]string{}}
	for name, role := range map[string]access.Role{clinicianUser: access.Clinician, directorUser: access.Director, analystUser: access.Analyst, adminUser: access.Admin} {
		if err := directory.AddUser(ctx, "setup", access.NewUser{Name: name, Role: role, Password: userPassword}); err != nil {
			t.Fatal(err)
		}
		_, token, err := directory.IssueToken(ctx, "setup", name, "browser tests", 0)
		if err != nil {
			t.Fatal(err)
		}
		u.tokens[name] = token
	}
	return u
}

// signedInTab opens a tab whose browser holds a session of user, as if
// they had signed in: the cookie the sign-in page would have set.
func (a *app) signedInTab(t *testing.T, user string) context.Context {
	t.Helper()
	ctx := tab(t)
	_, session, err := a.users.directory.SignIn(context.Background(), user, userPassword)
	if err != nil {
		t.Fatal(err)
	}
	httpOnly := true
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Call(c, network.SetCookie, network.SetCookieParams{Name: "continuum_session", Value: session, URL: a.url,
		HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteStrict}); err != nil {
		t.Fatalf("setting the session cookie: %v", err)
	}
	return ctx
}

// clearCookies forgets every cookie of the browser, so a tab starts signed out.
func clearCookies(t *testing.T, ctx context.Context) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Call(c, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

func TestSignInPageSignsInAndOut(t *testing.T) {
	a := startApp(t)
	ctx := tab(t)
	clearCookies(t, ctx)
	within(t, ctx, 15*time.Second, "opening a page while signed out lands on the sign-in page",
		chromedp.Navigate(a.url+"/#/patients"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	if loc := pageURL(ctx); !strings.Contains(loc, "/signin.html?next=") {
		t.Fatalf("signed out, the page went to %s", loc)
	}

	within(t, ctx, 5*time.Second, "signing in with a wrong password",
		chromedp.SendKeys(chromedp.CSS("#signin-name"), clinicianUser),
		chromedp.SendKeys(chromedp.CSS("#signin-password"), "not the password"),
		chromedp.Click(chromedp.CSS("#signin-submit")))
	until(t, ctx, 5*time.Second, "the page says the sign-in failed", `document.querySelector('#signin-message').textContent === 'Wrong user name or password.'`)
	screenshot(t, ctx, "signin-failed")

	within(t, ctx, 5*time.Second, "signing in",
		chromedp.SendKeys(chromedp.CSS("#signin-password"), userPassword),
		chromedp.Click(chromedp.CSS("#signin-submit")))
	afterNavigation(t, ctx, 10*time.Second, "back on the page asked for, signed in", `location.hash === '#/patients' && document.querySelector('#account-name')?.textContent === 'cleo'`)
	if got := text(t, ctx, "#account-role"); got != "Clinician" {
		t.Errorf("role shown %q", got)
	}
	if cookies := evaluate[string](t, ctx, `document.cookie`); strings.Contains(cookies, "continuum_session") {
		t.Errorf("the page's script reads the session cookie: %q", cookies)
	}
	screenshot(t, ctx, "signed-in")
	failed, err := a.users.audit.Query(context.Background(), access.Query{Action: access.SignInFailed})
	if err != nil || len(failed) != 1 || failed[0].User != clinicianUser || failed[0].Outcome != access.ReasonWrongPassword {
		t.Errorf("failed sign-in audit: %+v, %v", failed, err)
	}

	// A command from the page carries the session's CSRF token: the
	// referral form records the person.
	within(t, ctx, 15*time.Second, "referring a person from the page",
		chromedp.Navigate(a.url+"/#/patients/new"),
		chromedp.WaitVisible(chromedp.CSS("#form-referral-name")),
		chromedp.SendKeys(chromedp.CSS("#form-referral-name"), "Cyrus Csrf"),
		chromedp.SetValue(chromedp.CSS("#form-referral-source"), "self"),
		chromedp.SendKeys(chromedp.CSS("#form-referral-phq9"), "12"),
		chromedp.SendKeys(chromedp.CSS("#form-referral-gad7"), "9"),
		chromedp.SetValue(chromedp.CSS("#form-referral-recommendedLevel"), "iop"),
		chromedp.SendKeys(chromedp.CSS("#form-referral-ageYears"), "30"),
		chromedp.Click(chromedp.CSS(`#form-referral button[type="submit"]`)))
	until(t, ctx, 10*time.Second, "the referral is recorded", `location.hash.startsWith('#/patients/') && document.querySelector('h1').textContent === 'Cyrus Csrf'`)

	within(t, ctx, 5*time.Second, "signing out", chromedp.Click(chromedp.CSS("#sign-out")))
	afterNavigation(t, ctx, 10*time.Second, "the sign-in page after signing out", `location.pathname === '/signin.html'`)
	within(t, ctx, 15*time.Second, "the application is closed again",
		chromedp.Navigate(a.url+"/#/census"),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")))
}

func TestEachRoleSeesItsNavigation(t *testing.T) {
	a := startApp(t)
	tests := []struct {
		user, role string
		nav        []string
	}{
		{user: directorUser, role: "Program director", nav: []string{"census", "outcomes"}},
		{user: clinicianUser, role: "Clinician", nav: []string{"census", "patients", "groups"}},
		{user: analystUser, role: "Analyst", nav: []string{"census", "outcomes"}},
		{user: adminUser, role: "Admin", nav: []string{"census", "audit"}},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			ctx := a.signedInTab(t, tc.user)
			within(t, ctx, 15*time.Second, "opening the census",
				chromedp.Navigate(a.url+"/#/census"),
				chromedp.WaitVisible(chromedp.CSS("#account-name")))
			if got := text(t, ctx, "#account-role"); got != tc.role {
				t.Errorf("role shown %q, want %q", got, tc.role)
			}
			shown := evaluate[string](t, ctx, `[...document.querySelectorAll('.mainnav li:not([hidden]) a')].map((a) => a.dataset.nav).join(',')`)
			if shown != strings.Join(tc.nav, ",") {
				t.Errorf("navigation %q, want %q", shown, strings.Join(tc.nav, ","))
			}
		})
	}
}

func TestAdminAuditPage(t *testing.T) {
	a := startApp(t)
	const name = "Philippa Auditmore"
	id := a.admitted(t, name, "php", "php")
	a.get(t, "/api/patients/"+id) // the clinician opens the record

	ctx := a.signedInTab(t, adminUser)
	within(t, ctx, 15*time.Second, "opening the audit from the navigation",
		chromedp.Navigate(a.url+"/#/census"),
		chromedp.Click(chromedp.CSS(`a[data-nav="audit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#audit-filters")))
	until(t, ctx, 10*time.Second, "the audit lists entries", `document.querySelector('#audit-table') !== null`)
	within(t, ctx, 5*time.Second, "filtering by the patient",
		chromedp.SendKeys(chromedp.CSS("#audit-patient"), id),
		chromedp.Click(chromedp.CSS(`#audit-filters button[type="submit"]`)))
	until(t, ctx, 10*time.Second, "the clinician's look at the record is listed",
		`[...document.querySelectorAll('#audit-table tbody tr')].some((r) => r.textContent.includes('Opened a record') && r.textContent.includes('cleo') && r.textContent.includes(`+jsString(id)+`))`)
	page := text(t, ctx, "body")
	if strings.Contains(page, "Philippa") || strings.Contains(page, "Auditmore") {
		t.Error("the audit page shows a name")
	}
	screenshot(t, ctx, "audit")

	t.Run("not for other roles", func(t *testing.T) {
		ctx := a.signedInTab(t, clinicianUser)
		within(t, ctx, 15*time.Second, "opening the audit page as a clinician",
			chromedp.Navigate(a.url+"/audit.html"),
			chromedp.WaitVisible(chromedp.CSS("#audit-error")))
		if got := text(t, ctx, "#audit-error"); got != "Only admins may read the audit." {
			t.Errorf("the page says %q", got)
		}
	})
}

// afterNavigation waits for a condition that holds only once the page has
// gone elsewhere: evaluations during the navigation fail and are retried.
func afterNavigation(t *testing.T, ctx context.Context, d time.Duration, what, condition string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](condition))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last error %v)\npage at %s:\n%s", what, d, err, pageURL(ctx), pageText(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// evaluate runs a JavaScript expression on the page.
func evaluate[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expression, err)
	}
	return v
}
