package web_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	"github.com/x/flapjack/web"
)

// fetch sends req to h and returns the answer with its body read.
func fetch(t *testing.T, h http.Handler, req *http.Request) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func cookieNamed(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSessionCookie: an action's message reaches the next page in a signed
// cookie, once; a cookie this server did not sign, or an old one, shows
// nothing, and neither does a message in the query.
func TestSessionCookie(t *testing.T) {
	f := newFixture(t, "")
	secret := []byte("0123456789abcdef0123456789abcdef")
	withSecret := func(s []byte) http.Handler {
		return web.Handler(f.st, web.Options{Clock: f.clock, SessionSecret: s})
	}
	signer := withSecret(secret)
	// A decommission from the same origin leaves a notice for "/".
	req := httptest.NewRequest(http.MethodPost, "/checks/"+f.check("web1:http").ID, strings.NewReader("_method=PATCH"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, _ := fetch(t, signer, req)
	minted := cookieNamed(resp, web.SessionCookie)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || minted == nil {
		t.Fatalf("action: %d to %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if !minted.HttpOnly || minted.SameSite != http.SameSiteLaxMode || minted.Path != "/" || minted.MaxAge != 60 ||
		strings.Contains(minted.Value, "decommissioned") {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, Max-Age=60, and the message not in clear", minted)
	}
	tampered := func(value string) string {
		payload, mac, _ := strings.Cut(value, ".")
		b := []byte(payload)
		b[len(b)/2] ^= 1
		return string(b) + "." + mac
	}
	const notice = "Check web1:http decommissioned."
	cases := []struct {
		name    string
		h       http.Handler
		query   string
		cookie  string
		advance time.Duration
		want    bool
	}{
		{"the signing server", signer, "", minted.Value, 0, true},
		{"a restart with the same secret", withSecret(secret), "", minted.Value, 0, true},
		{"another secret", withSecret([]byte("another secret, 32 bytes long...")), "", minted.Value, 0, false},
		{"a random secret", withSecret(nil), "", minted.Value, 0, false},
		{"a tampered message", signer, "", tampered(minted.Value), 0, false},
		{"no signature", signer, "", strings.Split(minted.Value, ".")[0], 0, false},
		{"garbage", signer, "", "x.y", 0, false},
		{"kept too long", signer, "", minted.Value, 2 * time.Minute, false},
		{"a message in the query", signer, "?notice=" + url.QueryEscape(notice) + "&error=call+us", "", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Advance(tc.advance)
			defer f.clock.Advance(-tc.advance)
			req := httptest.NewRequest(http.MethodGet, "/"+tc.query, nil)
			if tc.cookie != "" {
				req.AddCookie(&http.Cookie{Name: web.SessionCookie, Value: tc.cookie})
			}
			resp, body := fetch(t, tc.h, req)
			errMsg, shown := flashOf(body)
			if (shown == notice) != tc.want || errMsg != "" {
				t.Errorf("notice %q, error %q; want the notice shown: %t", shown, errMsg, tc.want)
			}
			if c := cookieNamed(resp, web.SessionCookie); tc.cookie != "" && (c == nil || c.MaxAge >= 0) {
				t.Errorf("the cookie was not cleared: %+v", c)
			}
		})
	}
}

// TestSignOut: with tokens, a browser signed in by the login form sees a Sign
// out button, which forgets its token and leads back to the login form.
func TestSignOut(t *testing.T) {
	st := memory.New()
	defer st.Close()
	mux := http.NewServeMux()
	mux.Handle("/", api.Handler(st, api.Options{}))
	mux.Handle("/web/", web.Handler(st, web.Options{Prefix: "/web", SignOutPath: api.WebLogoutPath}))
	h := api.RequireTokens([]string{"r3ad-token"}, []string{"wr1te-token"}, mux)
	const button = `<form method="post" action="/web/logout" class="signout"><button type="submit">Sign out</button></form>`

	// Sign in through the form.
	req := httptest.NewRequest(http.MethodPost, api.WebLoginPath, strings.NewReader(url.Values{"token": {"r3ad-token"}, "next": {"/web/checks"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := fetch(t, h, req)
	token := cookieNamed(resp, api.TokenCookie)
	if resp.StatusCode != http.StatusSeeOther || token == nil {
		t.Fatalf("sign in: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	pages := []struct {
		name   string
		header func(*http.Request)
		status int
		button bool
	}{
		{"signed in", func(r *http.Request) { r.AddCookie(token) }, 200, true},
		{"bearer token", func(r *http.Request) { r.Header.Set("Authorization", "Bearer r3ad-token") }, 200, false},
		{"no token", func(*http.Request) {}, 401, false},
	}
	for _, p := range pages {
		req := httptest.NewRequest(http.MethodGet, "/web/checks", nil)
		p.header(req)
		resp, body := fetch(t, h, req)
		if resp.StatusCode != p.status || strings.Contains(body, button) != p.button {
			t.Errorf("%s: %d, Sign out button %t; want %d, %t:\n%s", p.name, resp.StatusCode, !p.button, p.status, p.button, body)
		}
	}

	signOut := func(site string) *http.Response {
		req := httptest.NewRequest(http.MethodPost, api.WebLogoutPath, nil)
		req.AddCookie(token)
		req.Header.Set("Sec-Fetch-Site", site)
		resp, _ := fetch(t, h, req)
		return resp
	}
	if resp := signOut("cross-site"); resp.StatusCode != http.StatusForbidden || cookieNamed(resp, api.TokenCookie) != nil {
		t.Errorf("cross-site sign out: %d, cookies %v; want 403 and the cookie kept", resp.StatusCode, resp.Cookies())
	}
	resp = signOut("same-origin")
	if c := cookieNamed(resp, api.TokenCookie); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != api.WebLoginPath || c == nil || c.MaxAge >= 0 || c.Value != "" {
		t.Fatalf("sign out: %d to %q, cookie %+v; want 303 to the login form and the cookie cleared", resp.StatusCode, resp.Header.Get("Location"), c)
	}
	resp, body := fetch(t, h, httptest.NewRequest(http.MethodGet, api.WebLoginPath, nil))
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="token"`) {
		t.Errorf("login form after signing out: %d\n%s", resp.StatusCode, body)
	}
}

// failingStore fails or panics on the reads of some pages.
type failingStore struct{ *memory.Store }

func (failingStore) QueryChecks(context.Context, store.CheckQuery) ([]flapjack.Check, error) {
	return nil, errors.New("redis: connection refused at 10.0.0.7:6379")
}

func (failingStore) Routing(context.Context) (*store.Routing, error) { panic("routing exploded") }

// TestShowExceptions: an unexpected failure, error or panic, is a 500 page
// whose details only show_exceptions reveals.
func TestShowExceptions(t *testing.T) {
	f := newFixture(t, "")
	cases := []struct {
		path    string
		show    bool
		wants   []string
		unwants []string
	}{
		{"/checks", false, []string{"Something went wrong"}, []string{"10.0.0.7", "exception"}},
		{"/checks", true, []string{"Something went wrong", `<pre class="exception">redis: connection refused at 10.0.0.7:6379</pre>`}, nil},
		{"/contacts", false, []string{"Something went wrong"}, []string{"routing exploded", "exception"}},
		{"/contacts", true, []string{`<pre class="exception">panic: routing exploded`, "runtime/debug.Stack"}, nil},
	}
	for _, tc := range cases {
		h := web.Handler(failingStore{f.st}, web.Options{Clock: f.clock, ShowExceptions: tc.show})
		resp, body := fetch(t, h, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if resp.StatusCode != http.StatusInternalServerError {
			t.Errorf("GET %s (show %t): %d, want 500", tc.path, tc.show, resp.StatusCode)
		}
		contains(t, body, tc.wants...)
		for _, u := range tc.unwants {
			if strings.Contains(body, u) {
				t.Errorf("GET %s (show %t) shows %q:\n%s", tc.path, tc.show, u, body)
			}
		}
	}
	// Expected failures are not exceptions: a missing check stays a 404.
	h := web.Handler(f.st, web.Options{Clock: f.clock, ShowExceptions: true})
	if resp, body := fetch(t, h, httptest.NewRequest(http.MethodGet, "/checks/nope", nil)); resp.StatusCode != 404 || strings.Contains(body, "exception") {
		t.Errorf("missing check: %d\n%s", resp.StatusCode, body)
	}
}

func TestLogo(t *testing.T) {
	dir := t.TempDir()
	png := []byte("\x89PNG\r\n\x1a\n fake image")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, b, 0o644))
		return p
	}
	reads := []struct {
		path, ext, err string
	}{
		{write("logo.PNG", png), "png", ""},
		{write("logo.svg", []byte("<svg/>")), "svg", ""},
		{write("logo.bmp", png), "", "a logo must be a png, jpg, jpeg, gif, svg, webp file"},
		{write("logo", png), "", "a logo must be"},
		{write("empty.png", nil), "", "the file is empty"},
		{filepath.Join(dir, "missing.png"), "", "no such file or directory"},
	}
	for _, r := range reads {
		l, err := web.ReadLogo(r.path)
		switch {
		case r.err == "" && (err != nil || l.Ext != r.ext):
			t.Errorf("ReadLogo(%s) = %+v, %v; want ext %q", r.path, l, err, r.ext)
		case r.err != "" && (err == nil || !strings.Contains(err.Error(), r.err)):
			t.Errorf("ReadLogo(%s) error %v, want %q", r.path, err, r.err)
		}
	}

	logo, err := web.ReadLogo(filepath.Join(dir, "logo.PNG"))
	must(t, err)
	for _, tc := range []struct {
		name  string
		logo  *web.Logo
		brand string
		image int
	}{
		{"custom", logo, `<a class="brand" href="/web/"><img src="/web/img/branding.png" alt="Flapjack"></a>`, 200},
		{"default", nil, `<a class="brand" href="/web/">Flapjack</a>`, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixtureWith(t, "/web", func(o *web.Options) { o.Logo = tc.logo })
			_, body := f.get("/web/checks")
			contains(t, body, tc.brand)
			resp, err := f.client.Get(f.srv.URL + "/web/img/branding.png")
			must(t, err)
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.image {
				t.Fatalf("GET the logo: %d, want %d", resp.StatusCode, tc.image)
			}
			if tc.image == 200 && (string(b) != string(png) || resp.Header.Get("Content-Type") != "image/png") {
				t.Errorf("logo %q as %q", b, resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestAutoRefresh(t *testing.T) {
	const meta = `<meta http-equiv="refresh" content="45">`
	for _, tc := range []struct {
		refresh time.Duration
		path    string
		want    bool
	}{
		{45 * time.Second, "/checks", true},
		{45 * time.Second, "/checks?failing=true", true},
		{45 * time.Second, "/", false},
		{45 * time.Second, "/contacts", false},
		{0, "/checks", false},
	} {
		f := newFixtureWith(t, "", func(o *web.Options) { o.AutoRefresh = tc.refresh })
		_, body := f.get(tc.path)
		if got := strings.Contains(body, "http-equiv=\"refresh\""); got != tc.want || (tc.want && !strings.Contains(body, meta)) {
			t.Errorf("auto_refresh %v, GET %s: refresh %t, want %t", tc.refresh, tc.path, got, tc.want)
		}
	}
}

// TestLastNotifications: the checks list shows each check's newest latest
// notification, the check page the last of each kind.
func TestLastNotifications(t *testing.T) {
	f := newFixture(t, "")
	now := f.clock.Now()
	crit, ack, ok := now.Add(-50*time.Minute), now.Add(-20*time.Minute), now.Add(-3*time.Hour)
	if _, err := f.st.UpdateCheck(context.Background(), "db1:replication", false, func(u *store.CheckUpdate) error {
		u.Check.LatestNotifications = []flapjack.State{
			{CreatedAt: ok, Condition: flapjack.OK},
			{CreatedAt: crit, Condition: flapjack.Critical},
			{CreatedAt: ack, Condition: flapjack.Critical, Action: flapjack.Acknowledgement},
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stamp := func(at time.Time) string { return at.Format("2006-01-02 15:04:05 MST") }
	cases := []struct {
		path  string
		wants []string
	}{
		{"/checks?name=db1:replication", []string{`<td><span title="` + stamp(ack) + `">20 minutes ago</span></td>`}},
		{"/checks?name=web1:http", []string{"<td>never</td>\n</tr>"}},
		{"/checks/" + f.check("db1:replication").ID, []string{
			"<dt>Last critical notification</dt><dd>50 minutes ago (" + stamp(crit) + ")</dd>",
			"<dt>Last warning notification</dt><dd>never</dd>",
			"<dt>Last unknown notification</dt><dd>never</dd>",
			"<dt>Last ok notification</dt><dd>3 hours ago (" + stamp(ok) + ")</dd>",
			"<dt>Last acknowledgement notification</dt><dd>20 minutes ago (" + stamp(ack) + ")</dd>",
		}},
	}
	for _, tc := range cases {
		_, body := f.get(tc.path)
		contains(t, body, tc.wants...)
	}
}

// plainStore is a store that does not count its keys.
type plainStore struct{ web.Store }

func TestSelfStatsTotalKeys(t *testing.T) {
	f := newFixture(t, "")
	n, err := f.st.KeyCount(context.Background())
	must(t, err)
	for _, tc := range []struct {
		name string
		st   web.Store
		want string
	}{
		{"counting store", f.st, "<dt>Total keys</dt><dd>" + strconv.FormatInt(n, 10) + "</dd>"},
		{"store without a count", plainStore{f.st}, ""},
	} {
		_, body := fetch(t, web.Handler(tc.st, web.Options{Clock: f.clock}), httptest.NewRequest(http.MethodGet, "/self_stats", nil))
		if got := strings.Contains(body, "Total keys"); got != (tc.want != "") {
			t.Errorf("%s: total keys shown %t", tc.name, got)
		}
		if tc.want != "" {
			contains(t, body, tc.want)
		}
	}
}

// TestContactTagsShown: a contact's tags are on its page and in the tags
// pages, even a tag only a contact carries.
func TestContactTagsShown(t *testing.T) {
	f := newFixture(t, "")
	must(t, f.st.PutContact(context.Background(), flapjack.Contact{ID: "c1", Name: "Alice <ops>", Timezone: "Europe/Rome", Tags: []string{"db", "oncall"}}))
	for _, tc := range []struct {
		path  string
		wants []string
	}{
		{"/contacts/c1", []string{`<a class="badge" href="/tags/db">db</a>`, `<a class="badge" href="/tags/oncall">oncall</a>`}},
		{"/tags?name=oncall", []string{`href="/tags/oncall"`}},
		{"/tags/oncall", []string{`<h2>Contacts</h2>`, `<a href="/contacts/c1">Alice &lt;ops&gt;</a>`, "No check carries this tag"}},
	} {
		status, body := f.get(tc.path)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d", tc.path, status)
		}
		contains(t, body, tc.wants...)
	}
}
