package main

// These tests run the built binary, as users do: its exit statuses, its output
// and its signal handling are part of what they check.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the flapjack command built by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "flapjack-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "flapjack")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building flapjack:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// wait bounds every poll and every wait for the daemon; shutdownWait bounds its
// graceful exit.
const (
	wait         = 10 * time.Second
	shutdownWait = 5 * time.Second
)

// syncBuffer collects a process's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// result is a finished command's outcome.
type result struct {
	code           int
	stdout, stderr string
}

// runFlapjack runs the binary to completion.
func runFlapjack(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("flapjack %s: %v", strings.Join(args, " "), err)
		}
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("flapjack %s did not finish within %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), wait, &stdout, &stderr)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// daemon is a running "flapjack server".
type daemon struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func startServer(t *testing.T, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"server"}, args...)...)
	d := &daemon{t: t, cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = io.Discard, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// waitLog waits until the daemon's log holds a line containing every part, and
// returns that line.
func (d *daemon) waitLog(what string, parts ...string) string {
	d.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		for _, line := range strings.Split(d.stderr.String(), "\n") {
			if containsAll(line, parts...) {
				return line
			}
		}
		select {
		case err := <-d.done:
			d.done <- err
			d.t.Fatalf("flapjack server exited (%v) before logging %s:\n%s", err, what, d.stderr)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("flapjack server did not log %s within %s:\n%s", what, wait, d.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// stop sends SIGTERM and checks for a clean exit.
func (d *daemon) stop() {
	d.t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		d.t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			d.t.Errorf("flapjack server exited with %v after SIGTERM, want status 0:\n%s", err, d.stderr)
		}
	case <-time.After(shutdownWait):
		d.t.Fatalf("flapjack server still running %s after SIGTERM:\n%s", shutdownWait, d.stderr)
	}
	if !strings.Contains(d.stderr.String(), "shutting down") {
		d.t.Errorf("no shutdown logged:\n%s", d.stderr)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func postEvents(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServerDeliversAlerts(t *testing.T) {
	hook := make(chan []byte, 10)
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
		}
		hook <- b
	}))
	defer webhook.Close()

	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", fmt.Sprintf(`contacts:
  - id: ops
    name: Ops
    media:
      - {id: ops_hook, transport: webhook, address: %q, interval: 60}
      - {id: ops_log, transport: log, address: ops-desk, interval: 60}
    rules:
      - {id: all, strategy: global, media: [ops_hook, ops_log]}
`, webhook.URL+"/alerts"))
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
level = "info"
format = "json"

[setup]
file = "setup.yaml"   # beside this file

[gateways.jsonapi]
port = %d

[gateways.log]
enabled = true

[gateways.webhook]
enabled = true
timeout = 5
`, port))

	d := startServer(t, "--config", config)
	listening := d.waitLog("that the intake listens", "event intake listening")
	events := fmt.Sprintf("http://127.0.0.1:%d/events", port)
	if !strings.Contains(listening, events) {
		t.Errorf("intake log line %s does not give %s", listening, events)
	}
	d.waitLog("the set-up data", "set-up data loaded", `"contacts":1`)

	code, body := postEvents(t, events, `{"entity":"web-01","check":"HTTP","state":"critical","summary":"502 Bad Gateway","initial_failure_delay":0}`)
	if code != http.StatusAccepted || body != "{\"accepted\":1,\"rejected\":[]}\n" {
		t.Fatalf("POST /events: %d %s, want 202 with one accepted", code, body)
	}

	var raw []byte
	select {
	case raw = <-hook:
	case <-time.After(wait):
		t.Fatalf("the webhook received nothing within %s:\n%s", wait, d.stderr)
	}
	var alert map[string]any
	if err := json.Unmarshal(raw, &alert); err != nil {
		t.Fatalf("webhook body %s: %v", raw, err)
	}
	// Fields that differ on every run are checked for their form, the rest exactly.
	for _, k := range []string{"id", "check_id"} {
		if s, _ := alert[k].(string); s == "" {
			t.Errorf("alert %s is %v, want an id", k, alert[k])
		}
		delete(alert, k)
	}
	if s, _ := alert["time"].(string); s == "" {
		t.Errorf("alert time is %v", alert["time"])
	} else if at, err := time.Parse(time.RFC3339Nano, s); err != nil || time.Since(at) > time.Minute || time.Since(at) < -time.Minute {
		t.Errorf("alert time %s is not now (%v)", s, err)
	}
	delete(alert, "time")
	if s, _ := alert["event_hash"].(string); len(s) != 8 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("alert event_hash is %v, want the check's 8-digit ack hash", alert["event_hash"])
	}
	delete(alert, "event_hash")
	want := map[string]any{
		"transport":    "webhook",
		"address":      webhook.URL + "/alerts",
		"medium_id":    "ops_hook",
		"contact_id":   "ops",
		"contact_name": "Ops",
		"check_name":   "web-01:HTTP",
		"type":         "problem",
		"condition":    "critical",
		"summary":      "502 Bad Gateway",
		"event_count":  float64(1),
	}
	if !reflect.DeepEqual(alert, want) {
		t.Errorf("webhook received\n  %s\nwant (besides id, check_id, time and event_hash)\n  %v", raw, want)
	}

	line := d.waitLog("the alert on the log medium", "Alert via log:ops-desk to contact ops (Ops): Problem - 'web-01:HTTP' is Critical - 502 Bad Gateway")
	var entry map[string]any
	if err := json.Unmarshal([]byte(line), &entry); err != nil {
		t.Errorf("log line %s is not JSON: %v", line, err)
	} else if entry["level"] != "INFO" || entry["check"] != "web-01:HTTP" || entry["type"] != "problem" || entry["transport"] != "log" {
		t.Errorf("log line %s lacks its attributes", line)
	}

	// A recovery follows at once.
	if code, body := postEvents(t, events, `[{"entity":"web-01","check":"HTTP","state":"ok"}]`); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s, want 202", code, body)
	}
	select {
	case raw = <-hook:
		if err := json.Unmarshal(raw, &alert); err != nil || alert["type"] != "recovery" || alert["condition"] != "ok" {
			t.Errorf("second webhook alert %s, want a recovery (%v)", raw, err)
		}
	case <-time.After(wait):
		t.Fatalf("the webhook received no recovery within %s:\n%s", wait, d.stderr)
	}

	d.stop()
	select {
	case raw := <-hook:
		t.Errorf("unexpected further alert %s", raw)
	default:
	}
}

func TestServerConfigErrors(t *testing.T) {
	dir := t.TempDir()
	badSetup := writeFile(t, dir, "bad_setup.yaml", "contacts:\n  - id: ops\n    media:\n      - {id: m, transport: pigeon, address: loft}\n")
	for _, tc := range []struct {
		name, config string
		want         []string
		never        []string // secrets the output must not show
	}{{
		name:   "unknown key",
		config: "[processor]\ninitial_failure_delai = 3\n",
		want:   []string{`flapjack.toml:2: unknown key "processor.initial_failure_delai"`},
	}, {
		name:   "every problem at once",
		config: "[logger]\nlevel = \"loud\"\n\n[gateways.jsonapi]\nport = 99999\n",
		want: []string{
			`flapjack.toml:2: [logger] level "loud" is not debug, info, warn or error`,
			`flapjack.toml:5: [gateways.jsonapi] port 99999 is not between 1 and 65535`,
		},
	}, {
		name:   "invalid set-up data",
		config: fmt.Sprintf("[setup]\nfile = %q\n", badSetup),
		want:   []string{badSetup + `:4: medium "m": unknown transport "pigeon"`},
	}, {
		name:   "missing set-up file",
		config: "[setup]\nfile = \"nowhere.yaml\"\n",
		want:   []string{"flapjack.toml:2: [setup] file: open " + filepath.Join(dir, "nowhere.yaml")},
	}, {
		name:   "invalid delivery table",
		config: "[gateways.webhook]\nenabled = true\n\n[gateways.webhook.delivery]\nworkers = -1\nrate_key = \"contact\"\n",
		want: []string{
			`flapjack.toml:4: [gateways.webhook.delivery] workers: -1 is negative`,
			`rate_key: "contact" is neither "transport" nor "address"`,
		},
	}, {
		name:   "unknown delivery key",
		config: "[gateways.webhook]\nenabled = true\n\n[gateways.webhook.delivery]\nretries = 3\n",
		want:   []string{`flapjack.toml:4: [gateways.webhook.delivery] decode config: unknown key "retries"`},
	}, {
		name:   "unknown gateway key",
		config: "[gateways.webhook]\nenabled = true\nurll = \"https://example.com\"\n",
		want:   []string{`flapjack.toml:1: [gateways.webhook]`, `unknown key "urll"`},
	}, {
		name:   "redis url and host",
		config: "[redis]\nhost = \"127.0.0.1\"\nurl = \"redis://:s3cret@127.0.0.1:6379/0\"\n",
		want:   []string{`flapjack.toml:3: [redis] url cannot be combined with host (line 2)`},
		never:  []string{"s3cret"},
	}, {
		name:   "redis url that does not parse",
		config: "[redis]\nurl = \"redis://ops:s3c%zret@127.0.0.1:6379/0\"\n",
		want:   []string{`flapjack.toml:2: [redis] url "redis://ops:xxxxx@127.0.0.1:6379/0": invalid URL escape`},
		never:  []string{"s3c", "%zr"},
	}, {
		name:   "redis port and db",
		config: "[redis]\nport = 0\ndb = -1\npassword = \"s3cret\"\n",
		want: []string{
			`flapjack.toml:2: [redis] port 0 is not between 1 and 65535`,
			`flapjack.toml:3: [redis] db -1 is not a database number (0 or more)`,
		},
		never: []string{"s3cret"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "flapjack.toml", tc.config)
			r := runFlapjack(t, "server", "--config", path)
			if r.code != 2 {
				t.Errorf("exit status %d, want 2\nstderr:\n%s", r.code, r.stderr)
			}
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "flapjack.toml:", path+":")
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, r.stderr)
				}
			}
			for _, s := range tc.never {
				if strings.Contains(r.stderr+r.stdout, s) {
					t.Errorf("the output shows %q:\n%s", s, r.stderr)
				}
			}
		})
	}
	if r := runFlapjack(t, "server", "--config", filepath.Join(dir, "missing.toml")); r.code != 2 || !strings.Contains(r.stderr, "missing.toml") {
		t.Errorf("missing configuration: exit %d, stderr %q; want 2 naming the file", r.code, r.stderr)
	}
}

func TestServerEmbeddedDefault(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:3081")
	if err != nil {
		t.Skipf("the embedded default listens on 127.0.0.1:3081, which is in use here: %v", err)
	}
	ln.Close()

	d := startServer(t)
	d.waitLog("that the intake listens", "event intake listening", "http://127.0.0.1:3081/events")
	d.waitLog("the embedded set-up data", "set-up data loaded", "embedded default")
	code, body := postEvents(t, "http://127.0.0.1:3081/events", `{"entity":"web-01","check":"HTTP","state":"critical","summary":"502","initial_failure_delay":0}`)
	if code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s, want 202", code, body)
	}
	// The embedded default's contact receives every alert on its log medium.
	d.waitLog("the alert", "Alert via log:operator to contact operator (Operator): Problem - 'web-01:HTTP' is Critical - 502")
	d.stop()
}

func TestRuleTests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		code  int
		want  []string // lines the output must contain, in this order
	}{{
		name:  "passing",
		files: []string{"testdata/pass.yaml"},
		code:  0,
		want: []string{
			"ok testdata/pass.yaml: alerts after 30 s of failure",
			"ok testdata/pass.yaml: alerts at once with a zero delay",
			"2 passed, 0 failed",
		},
	}, {
		name:  "failing",
		files: []string{"testdata/pass.yaml", "testdata/fail.yaml"},
		code:  1,
		want: []string{
			"ok testdata/fail.yaml: quiet while ok",
			"FAIL testdata/fail.yaml: expects an alert too early",
			`    step 2 (line 13) at +10s: event {"check":"web:http","state":"critical"}`,
			"      alerts: expected but not produced: {medium: ops_hook, type: problem}",
			"      trace:",
			"        filter:delays: block — just failed; initial failure delay is 30s",
			"3 passed, 1 failed",
		},
	}, {
		name:  "unknown key",
		files: []string{"testdata/unknown_key.yaml", "testdata/pass.yaml"},
		code:  2,
		want: []string{
			"INVALID testdata/unknown_key.yaml",
			`    testdata/unknown_key.yaml:9: unknown key "alerst" (known: notifications, blocked_by, alerts, check)`,
			"2 passed, 0 failed",
		},
	}, {
		name:  "time going backwards",
		files: []string{"testdata/backwards.yaml"},
		code:  2,
		want: []string{
			"INVALID testdata/backwards.yaml",
			`    testdata/backwards.yaml:5: test "time goes backwards" step 2: time goes backwards (10s after start, previous step at 30s)`,
			"0 passed, 0 failed",
		},
	}, {
		name:  "missing file",
		files: []string{"testdata/missing.yaml"},
		code:  2,
		want:  []string{"INVALID testdata/missing.yaml", "0 passed, 0 failed"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := runFlapjack(t, append([]string{"test"}, tc.files...)...)
			if r.code != tc.code {
				t.Errorf("exit status %d, want %d", r.code, tc.code)
			}
			rest := r.stdout
			for _, w := range tc.want {
				i := strings.Index(rest, w+"\n")
				if i < 0 {
					t.Errorf("output lacks %q (in order):\n%s", w, r.stdout)
					break
				}
				rest = rest[i+len(w):]
			}
			if !strings.HasSuffix(r.stdout, tc.want[len(tc.want)-1]+"\n") {
				t.Errorf("output does not end with the summary %q:\n%s", tc.want[len(tc.want)-1], r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
	if r := runFlapjack(t, "test"); r.code == 0 || !strings.Contains(r.stderr, "requires at least 1 arg") {
		t.Errorf("flapjack test without files: exit %d, stderr %q; want an error", r.code, r.stderr)
	}
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:", "flapjack [command]", "completion", "help", "server ", "test ", "-c, --config string", "-v, --version", "-h, --help"}},
		{[]string{"help"}, []string{"server", "test", "--config"}},
		{[]string{}, []string{"server", "test", "--config"}},
		{[]string{"server", "--help"}, []string{"flapjack server [flags]", "SIGTERM", "127.0.0.1:3081", "POST /events", "-c, --config", "-h, --help"}},
		{[]string{"help", "server"}, []string{"flapjack server [flags]", "-c, --config"}},
		{[]string{"test", "--help"}, []string{"flapjack test FILE...", "N passed, M failed", "Exits 0", "-c, --config", "-h, --help"}},
		{[]string{"--version"}, []string{"flapjack version"}},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != 0 {
			t.Errorf("flapjack %s: exit %d, stderr %s", strings.Join(tc.args, " "), r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("flapjack %s does not mention %q:\n%s", strings.Join(tc.args, " "), w, r.stdout)
			}
		}
	}
	if r := runFlapjack(t, "serve"); r.code == 0 || !strings.Contains(r.stderr, `unknown command "serve"`) {
		t.Errorf("flapjack serve: exit %d, stderr %q; want an unknown command error", r.code, r.stderr)
	}
}

// TestServerWithoutGateways checks a daemon whose configuration enables no
// gateway: it says so, and an alert for a medium is logged as skipped. Its log
// format is "auto" and its stderr a pipe, so every line is JSON.
func TestServerWithoutGateways(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", `contacts:
  - id: ops
    media: [{id: ops_log, transport: log, address: ops}]
    rules: [{id: all, strategy: global, media: [ops_log]}]
`)
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf("[setup]\nfile = \"setup.yaml\"\n\n[gateways.jsonapi]\nport = %d\n", port))
	d := startServer(t, "--config", config)
	d.waitLog("the warning", "no gateway is enabled: alerts are not delivered")
	d.waitLog("that the intake listens", "event intake listening")
	url := fmt.Sprintf("http://127.0.0.1:%d/events", port)
	if code, body := postEvents(t, url, `{"check":"db:disk","state":"critical","initial_failure_delay":0}`); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s, want 202", code, body)
	}
	d.waitLog("the skipped alert", "alert skipped: no queue for transport", `"transport":"log"`, `"check":"db:disk"`)
	d.stop()
	sc := bufio.NewScanner(strings.NewReader(d.stderr.String()))
	for sc.Scan() {
		if !json.Valid(sc.Bytes()) {
			t.Errorf("log line is not JSON: %s", sc.Text())
		}
	}
}

// TestServerSlack checks the slack gateway as the daemon runs it, through a
// delivery table: an endpoint that fails once is retried, and the message
// arrives in the form Slack expects.
func TestServerSlack(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	got := make(chan []byte, 10)
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if r.Method != http.MethodPost || r.URL.Path != "/services/T0/B0/t0ken" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("slack got %s %s with Content-Type %q", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		got <- b
		_, _ = io.WriteString(w, "ok")
	}))
	defer slack.Close()

	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", `contacts:
  - id: ops
    name: Ops
    media: [{id: ops_slack, transport: slack, address: ops, interval: 60}]
    rules: [{id: all, strategy: global, media: [ops_slack]}]
`)
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
format = "json"

[setup]
file = "setup.yaml"

[gateways.jsonapi]
port = %d

[gateways.slack]
enabled = true
endpoint = %q
account_sid = "flapjack"

[gateways.slack.delivery]
max_attempts = 3
backoff = 0.01
max_backoff = 0.05
`, port, slack.URL+"/services/T0/B0/t0ken"))

	d := startServer(t, "--config", config)
	d.waitLog("that the intake listens", "event intake listening")
	events := fmt.Sprintf("http://127.0.0.1:%d/events", port)
	if code, body := postEvents(t, events, `{"entity":"web-01","check":"HTTP","state":"critical","summary":"502","initial_failure_delay":0}`); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s, want 202", code, body)
	}
	select {
	case b := <-got:
		var msg map[string]any
		if err := json.Unmarshal(b, &msg); err != nil {
			t.Fatalf("slack body %s: %v", b, err)
		}
		text, _ := msg["text"].(string)
		if msg["channel"] != "#ops" || msg["username"] != "flapjack" || msg["icon_emoji"] != ":ghost:" ||
			!strings.HasPrefix(text, "Problem: 'web-01:HTTP' is Critical at ") || !strings.HasSuffix(text, ", 502") {
			t.Errorf("slack body %s", b)
		}
	case <-time.After(wait):
		t.Fatalf("slack received nothing within %s:\n%s", wait, d.stderr)
	}
	line := d.waitLog("the retry", "alert delivery failed; will retry", `"transport":"slack"`)
	if strings.Contains(line, "t0ken") || strings.Contains(d.stderr.String(), "t0ken") {
		t.Errorf("the webhook URL's secret is in the log:\n%s", d.stderr)
	}
	d.stop()
}
