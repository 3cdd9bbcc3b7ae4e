package main

// [gateways.web] and the access logs, through the built binary.

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// combined matches a line of the Combined Log Format.
var combined = regexp.MustCompile(`^127\.0\.0\.1 - - \[\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "([A-Z]+ \S+) HTTP/1\.1" (\d{3}) (\d+|-) "[^"]*" "[^"]*"$`)

func TestServerWebSettings(t *testing.T) {
	dir := t.TempDir()
	png := "\x89PNG\r\n\x1a\n our logo"
	writeFile(t, dir, "logo.png", png)
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
format = "json"

[gateways.jsonapi]
port = %d
tokens_write = ["writer-token-123"]
access_log = "api.log"

[gateways.web]
access_log = "web.log"
logo_image_path = "logo.png"
auto_refresh = 30
session_secret = "a-long-session-secret"
`, port))
	d := startServer(t, "--config", config)
	d.waitLog("that the intake listens", "event intake listening")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	get := func(path string, auth bool) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer writer-token-123")
			req.AddCookie(&http.Cookie{Name: "flapjack_token", Value: "writer-token-123"})
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	pages := []struct {
		path   string
		auth   bool
		status int
		wants  []string
	}{
		{"/web/checks", true, 200, []string{`<meta http-equiv="refresh" content="30">`, `<img src="/web/img/branding.png" alt="Flapjack">`,
			`action="/web/logout"`}},
		{"/web/img/branding.png", true, 200, []string{png}},
		{"/checks", true, 200, []string{`"data":[]`}},
		{"/checks", false, 401, nil},
		{"/web/checks", false, 401, nil},
	}
	for _, p := range pages {
		status, body := get(p.path, p.auth)
		if status != p.status {
			t.Errorf("GET %s: %d, want %d", p.path, status, p.status)
		}
		for _, w := range p.wants {
			if !strings.Contains(body, w) {
				t.Errorf("GET %s lacks %q:\n%s", p.path, w, body)
			}
		}
	}

	// Each request is in its server part's log; no token is.
	logLines := func(name string) []string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "writer-token-123") {
			t.Errorf("%s shows the token:\n%s", name, b)
		}
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	wantLog := func(name string, want ...string) {
		t.Helper()
		lines := logLines(name)
		if len(lines) != len(want) {
			t.Fatalf("%s: %d lines, want %d:\n%s", name, len(lines), len(want), strings.Join(lines, "\n"))
		}
		for i, line := range lines {
			m := combined.FindStringSubmatch(line)
			if m == nil || m[1]+" "+m[2] != want[i] {
				t.Errorf("%s line %d: %q, want a Combined Log Format line of %q", name, i+1, line, want[i])
			}
		}
	}
	wantLog("web.log", "GET /web/checks 200", "GET /web/img/branding.png 200", "GET /web/checks 401")
	wantLog("api.log", "GET /checks 200", "GET /checks 401")

	// After a rotation, SIGHUP makes the server write a new file.
	if err := os.Rename(filepath.Join(dir, "web.log"), filepath.Join(dir, "web.log.1")); err != nil {
		t.Fatal(err)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog("the reload", "configuration reloaded")
	get("/web/", true)
	wantLog("web.log", "GET /web/ 200")
	d.stop()
}

// TestServerWebConfigErrors: a [gateways.web] the server cannot use stops it
// at start with exit status 2 and the file and line of the setting.
func TestServerWebConfigErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "logo.bmp", "BM")
	writeFile(t, dir, "empty.png", "")
	for _, tc := range []struct {
		name, config string
		want         string
		never        string
	}{
		{"missing logo", "[gateways.web]\nlogo_image_path = \"nowhere.png\"\n",
			"flapjack.toml:2: [gateways.web] logo_image_path: open " + filepath.Join(dir, "nowhere.png") + ": no such file or directory", ""},
		{"unsupported logo", "[gateways.web]\nlogo_image_path = \"logo.bmp\"\n",
			"flapjack.toml:2: [gateways.web] logo_image_path: " + filepath.Join(dir, "logo.bmp") + ": a logo must be a png, jpg, jpeg, gif, svg, webp file", ""},
		{"empty logo", "[gateways.web]\nlogo_image_path = \"empty.png\"\n",
			"flapjack.toml:2: [gateways.web] logo_image_path: " + filepath.Join(dir, "empty.png") + ": the file is empty", ""},
		{"short secret", "[gateways.web]\nsession_secret = \"tiny-secret\"\n",
			"flapjack.toml:2: [gateways.web] session_secret must be at least 16 characters, not 11", "tiny-secret"},
		{"access log folder", "[gateways.jsonapi]\naccess_log = \"logs/api.log\"\n",
			"flapjack.toml:2: [gateways.jsonapi] access_log " + filepath.Join(dir, "logs/api.log") + ": the folder " + filepath.Join(dir, "logs") + " does not exist", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "flapjack.toml", tc.config)
			want := strings.ReplaceAll(tc.want, "flapjack.toml:", path+":")
			for _, args := range [][]string{{"server", "--config", path}, {"check-config", path}} {
				r := runFlapjack(t, args...)
				if r.code != 2 || !strings.Contains(r.stderr, want) {
					t.Errorf("flapjack %s: exit %d, stderr:\n%s\nwant 2 and %q", args[0], r.code, r.stderr, want)
				}
				if tc.never != "" && strings.Contains(r.stderr+r.stdout, tc.never) {
					t.Errorf("flapjack %s shows the secret:\n%s", args[0], r.stderr)
				}
			}
		})
	}
}
