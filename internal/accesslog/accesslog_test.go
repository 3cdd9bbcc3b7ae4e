package accesslog

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 0, time.FixedZone("", 3600))
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		size   int64
		want   string
	}{
		{"plain", func() *http.Request {
			r := httptest.NewRequest("GET", "/checks?page=2", nil)
			r.RemoteAddr = "192.0.2.7:51234"
			r.Header.Set("User-Agent", "curl/8.5.0")
			return r
		}, 200, 1534, `192.0.2.7 - - [02/Jan/2026:15:04:05 +0100] "GET /checks?page=2 HTTP/1.1" 200 1534 "-" "curl/8.5.0"`},
		{"credentials left out", func() *http.Request {
			r := httptest.NewRequest("POST", "/web/acknowledgements", strings.NewReader("token=s3cret"))
			r.RemoteAddr = "[2001:db8::1]:443"
			r.Header.Set("Authorization", "Bearer s3cret")
			r.AddCookie(&http.Cookie{Name: "flapjack_token", Value: "s3cret"})
			r.Header.Set("Referer", "https://flapjack.example/web/checks/1")
			return r
		}, 303, 0, `2001:db8::1 - - [02/Jan/2026:15:04:05 +0100] "POST /web/acknowledgements HTTP/1.1" 303 - "https://flapjack.example/web/checks/1" "-"`},
		{"quotes and control characters", func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.RemoteAddr = "192.0.2.7:1"
			r.Header.Set("User-Agent", "evil\" \\ \x01agent\n192.0.2.8 - - fake")
			return r
		}, 404, 9, `192.0.2.7 - - [02/Jan/2026:15:04:05 +0100] "GET /x HTTP/1.1" 404 9 "-" "evil\" \\ \x01agent\x0a192.0.2.8 - - fake"`},
		{"nothing written", func() *http.Request {
			r := httptest.NewRequest("HEAD", "/healthz", nil)
			r.RemoteAddr = "192.0.2.7:1"
			return r
		}, 0, 0, `192.0.2.7 - - [02/Jan/2026:15:04:05 +0100] "HEAD /healthz HTTP/1.1" 200 - "-" "-"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Line(tc.req(), at, tc.status, tc.size))
			if got != tc.want+"\n" {
				t.Errorf("line\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Errorf("a credential is in the line %q", got)
			}
		})
	}
}

var clf = regexp.MustCompile(`^\S+ - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "[^"]*" \d{3} (\d+|-) "[^"]*" "[^"]*"$`)

func TestHandlerAndReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "short and stout")
		case "/panic":
			panic("boom")
		default:
			io.WriteString(w, "hello")
		}
	}))
	serve := func(path string) {
		t.Helper()
		defer func() { recover() }()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	read := func(p string) []string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	serve("/hello")
	serve("/teapot")
	serve("/panic")
	lines := read(path)
	wants := []string{`"GET /hello HTTP/1.1" 200 5 `, `"GET /teapot HTTP/1.1" 418 15 `, `"GET /panic HTTP/1.1" 500 - `}
	if len(lines) != len(wants) {
		t.Fatalf("lines %q", lines)
	}
	for i, w := range wants {
		if !strings.Contains(lines[i], w) || !clf.MatchString(lines[i]) {
			t.Errorf("line %q: want %q in the Combined Log Format", lines[i], w)
		}
	}

	// A rotation moves the file away; Reopen starts a new one.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	serve("/before")
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	serve("/after")
	if old := read(path + ".1"); len(old) != 4 || !strings.Contains(old[3], "/before") {
		t.Errorf("rotated file %q", old)
	}
	if now := read(path); len(now) != 1 || !strings.Contains(now[0], "/after") {
		t.Errorf("new file %q", now)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	if _, err := Open(filepath.Join(dir, "missing", "x.log")); err == nil {
		t.Error("Open in a missing folder succeeded")
	}
}
