package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestRequireTokens(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot) // reached the wrapped handler
	})
	h := RequireTokens([]string{"r3ad"}, []string{"wr1te"}, next)
	for _, tc := range []struct {
		name, method, path string
		header             map[string]string
		cookie             string
		want               int
	}{
		{name: "no token", method: "GET", path: "/checks", want: 401},
		{name: "wrong token", method: "GET", path: "/checks", header: map[string]string{"Authorization": "Bearer nope"}, want: 401},
		{name: "prefix of a token", method: "GET", path: "/checks", header: map[string]string{"Authorization": "Bearer r3a"}, want: 401},
		{name: "other scheme", method: "GET", path: "/checks", header: map[string]string{"Authorization": "Basic r3ad"}, want: 401},
		{name: "read on GET", method: "GET", path: "/checks", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 418},
		{name: "read on HEAD", method: "HEAD", path: "/checks", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 418},
		{name: "scheme in any case", method: "GET", path: "/checks", header: map[string]string{"Authorization": "bearer r3ad"}, want: 418},
		{name: "read on POST /events", method: "POST", path: "/events", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 403},
		{name: "read on PATCH", method: "PATCH", path: "/checks/x", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 403},
		{name: "read on DELETE", method: "DELETE", path: "/checks/x", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 403},
		{name: "write on POST /events", method: "POST", path: "/events", header: map[string]string{"Authorization": "Bearer wr1te"}, want: 418},
		{name: "write on GET", method: "GET", path: "/checks", header: map[string]string{"Authorization": "Bearer wr1te"}, want: 418},
		{name: "no token on POST /events", method: "POST", path: "/events", want: 401},
		{name: "healthz open", method: "GET", path: "/healthz", want: 418},
		{name: "readyz open", method: "GET", path: "/readyz", want: 418},
		{name: "metrics needs a token", method: "GET", path: "/metrics", want: 401},
		{name: "metrics with read token", method: "GET", path: "/metrics", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 418},
		{name: "preflight open", method: "OPTIONS", path: "/events", header: map[string]string{"Origin": "https://x.example", "Access-Control-Request-Method": "POST"}, want: 418},
		{name: "plain OPTIONS needs a token", method: "OPTIONS", path: "/events", want: 401},
		{name: "web needs a token", method: "GET", path: "/web/", want: 401},
		{name: "web with the header", method: "GET", path: "/web/", header: map[string]string{"Authorization": "Bearer r3ad"}, want: 418},
		{name: "web with the cookie", method: "GET", path: "/web/checks", cookie: "r3ad", want: 418},
		{name: "web read cookie on POST", method: "POST", path: "/web/checks/x/acknowledgements", cookie: "r3ad", want: 403},
		{name: "web write cookie on POST", method: "POST", path: "/web/checks/x/acknowledgements", cookie: "wr1te", want: 418},
		{name: "cookie outside web", method: "GET", path: "/checks", cookie: "r3ad", want: 401},
		{name: "bad cookie", method: "GET", path: "/web/", cookie: "nope", want: 401},
		{name: "login form open", method: "GET", path: WebLoginPath, want: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if tc.cookie != "" {
				r.AddCookie(&http.Cookie{Name: TokenCookie, Value: tc.cookie})
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("%s %s: %d, want %d: %s", tc.method, tc.path, w.Code, tc.want, w.Body)
			}
			if w.Code == 401 && !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 with WWW-Authenticate %q", w.Header().Get("WWW-Authenticate"))
			}
			if (w.Code == 401 || w.Code == 403) && !strings.HasPrefix(tc.path, "/web") {
				var doc struct {
					Errors []struct{ Status, Detail string } `json:"errors"`
				}
				if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil || len(doc.Errors) != 1 || doc.Errors[0].Status != strconv.Itoa(w.Code) {
					t.Errorf("body %s (%v), want a JSON:API error document", w.Body, err)
				}
			}
			if strings.Contains(w.Body.String(), "r3ad") || strings.Contains(w.Body.String(), "wr1te") {
				t.Errorf("a token is in the answer: %s", w.Body)
			}
		})
	}
}

func TestRequireTokensWithoutTokens(t *testing.T) {
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if h := RequireTokens(nil, nil, next); h == nil {
		t.Fatal("nil handler")
	} else if _, wrapped := h.(http.HandlerFunc); !wrapped {
		t.Fatal("not the handler itself")
	}
	w := httptest.NewRecorder()
	RequireTokens(nil, nil, next).ServeHTTP(w, httptest.NewRequest("POST", "/events", nil))
	if w.Code != http.StatusOK {
		t.Errorf("no tokens: %d, want the request passed on", w.Code)
	}
}

func TestRequireTokensComparesInConstantTime(t *testing.T) {
	calls := 0
	orig := constantTimeCompare
	constantTimeCompare = func(x, y []byte) int { calls++; return orig(x, y) }
	defer func() { constantTimeCompare = orig }()
	h := RequireTokens([]string{"a", "b"}, []string{"c"}, http.NotFoundHandler())
	for _, tok := range []string{"a", "c", "zzz"} {
		calls = 0
		r := httptest.NewRequest("GET", "/checks", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(httptest.NewRecorder(), r)
		// Every token is compared, whichever matches (if any).
		if calls != 3 {
			t.Errorf("token %q: %d constant-time comparisons, want 3", tok, calls)
		}
	}
}

func TestWebLogin(t *testing.T) {
	h := RequireTokens([]string{"r3ad"}, nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	post := func(token, next string, tls bool) *httptest.ResponseRecorder {
		form := url.Values{"token": {token}, "next": {next}}
		target := WebLoginPath
		if tls {
			target = "https://flapjack.example" + WebLoginPath
		}
		r := httptest.NewRequest("POST", target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := post("nope", "/web/checks", false); w.Code != http.StatusUnauthorized || len(w.Result().Cookies()) != 0 {
		t.Errorf("bad token: %d, cookies %v", w.Code, w.Result().Cookies())
	}
	w := post("r3ad", "/web/checks", false)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/web/checks" {
		t.Fatalf("login: %d to %q", w.Code, w.Header().Get("Location"))
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 || cs[0].Name != TokenCookie || !cs[0].HttpOnly || cs[0].SameSite != http.SameSiteStrictMode || cs[0].Secure || cs[0].Path != "/web" {
		t.Errorf("cookie %+v, want HttpOnly, SameSite=Strict, not Secure over HTTP, path /web", cs)
	}
	if cs := post("r3ad", "/web/", true).Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("cookie over TLS %+v, want Secure", cs)
	}
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/checks", ""} {
		if loc := post("r3ad", next, false).Header().Get("Location"); loc != "/web/" {
			t.Errorf("next %q: redirected to %q, want /web/", next, loc)
		}
	}
	r := httptest.NewRequest("POST", WebLogoutPath, nil)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if cs := w.Result().Cookies(); w.Code != http.StatusSeeOther || len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Errorf("logout: %d, cookies %+v", w.Code, cs)
	}
}
