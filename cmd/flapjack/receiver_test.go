//go:build unix

package main

// The receivers as users run them: the built binary feeding a running daemon
// (or a recording intake, or Redis) from named pipes, files, HTTP and its
// arguments.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store/memory"
)

// startReceiver starts a long-running "flapjack receiver …" command.
func startReceiver(t *testing.T, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"receiver"}, args...)...)
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

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "event_stream.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	return path
}

// openFIFO opens a named pipe for writing, which waits for its reader, d.
func openFIFO(t *testing.T, d *daemon, path string) *os.File {
	t.Helper()
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		return o.f
	case <-time.After(wait):
		// Let the open through, so that its goroutine ends.
		if r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
			r.Close()
		}
		t.Fatalf("the receiver did not open %s within %s:\n%s", path, wait, d.stderr)
		return nil
	}
}

// alertBox collects the alerts a webhook receives.
type alertBox struct {
	mu     sync.Mutex
	alerts []map[string]any
	added  chan struct{}
}

func newAlertBox(t *testing.T) (*alertBox, string) {
	box := &alertBox{added: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a map[string]any
		if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		box.mu.Lock()
		box.alerts = append(box.alerts, a)
		box.mu.Unlock()
		select {
		case box.added <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(srv.Close)
	return box, srv.URL + "/alerts"
}

// expect waits for an alert of type typ about check, takes it, and checks its
// condition and summary.
func (b *alertBox) expect(t *testing.T, d *daemon, check, typ, condition, summary string) {
	t.Helper()
	deadline := time.After(wait)
	for {
		b.mu.Lock()
		for i, a := range b.alerts {
			if a["check_name"] == check && a["type"] == typ {
				b.alerts = append(b.alerts[:i], b.alerts[i+1:]...)
				b.mu.Unlock()
				if a["condition"] != condition || a["summary"] != summary {
					t.Errorf("%s alert for %s: condition %v, summary %q; want %s, %q", typ, check, a["condition"], a["summary"], condition, summary)
				}
				return
			}
		}
		b.mu.Unlock()
		select {
		case <-b.added:
		case <-deadline:
			t.Fatalf("no %s alert for %s within %s:\n%s", typ, check, wait, d.stderr)
		}
	}
}

func (b *alertBox) none(t *testing.T) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.alerts) > 0 {
		t.Errorf("unexpected alerts %v", b.alerts)
	}
}

// TestReceiversFeedTheDaemon runs a daemon without Redis and feeds it through
// its HTTP intake, found in the shared configuration file, with each receiver.
func TestReceiversFeedTheDaemon(t *testing.T) {
	box, hook := newAlertBox(t)
	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", fmt.Sprintf(`contacts:
  - id: ops
    name: Ops
    # interval 0: every check's problem alerts (a medium's interval spans its checks)
    media: [{id: ops_hook, transport: webhook, address: %q, interval: 0}]
    rules: [{id: all, strategy: global, media: [ops_hook]}]
`, hook))
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
format = "json"

[setup]
file = "setup.yaml"

[processor]
initial_failure_delay = 0   # Nagios sends no delays: alert on the first failure

[gateways.jsonapi]
port = %d

[gateways.webhook]
enabled = true
`, freePort(t)))
	server := startServer(t, "--config", config)
	server.waitLog("that the intake listens", "event intake listening")

	t.Run("nagios", func(t *testing.T) {
		fifo := mkfifo(t)
		d := startReceiver(t, "nagios", "--config", config, "--fifo", fifo, "--reopen-delay", "20ms")
		d.waitLog("the start", "nagios receiver started", fifo, "http://127.0.0.1:")
		w := openFIFO(t, d, fifo)
		now := time.Now().Unix()
		fmt.Fprintf(w, "[SERVICEPERFDATA]\t%d\tweb-01\tHTTP\tPENDING\t0\t0\twaiting\t\n", now)
		fmt.Fprintf(w, "[SERVICEPERFDATA]\t%d\tweb-01\tHTTP\tCRITICAL\t0.101\t0.012\tHTTP CRITICAL - 502\ttime=0.2s;;;0\tfirst\\nsecond\n", now)
		fmt.Fprintf(w, "[HOSTPERFDATA]\t%d\tweb-01\tHOST\tUNREACHABLE\t0\t0\tparent down\t\n", now)
		box.expect(t, server, "web-01:HTTP", "problem", "critical", "HTTP CRITICAL - 502")
		box.expect(t, server, "web-01:HOST", "problem", "critical", "parent down")
		d.waitLog("the rejected line", "rejecting line", `field 5 (state) \"PENDING\" is not UP, DOWN, UNREACHABLE, OK, WARNING, CRITICAL or UNKNOWN`)

		// Nagios restarts: the receiver opens the pipe again.
		w.Close()
		d.waitLog("the writer going", "the fifo's writer closed it; will reopen it")
		w = openFIFO(t, d, fifo)
		fmt.Fprintf(w, "[SERVICEPERFDATA]\t%d\tweb-01\tHTTP\tOK\t0.1\t0.01\tHTTP OK\t\n", now+1)
		w.Close()
		box.expect(t, server, "web-01:HTTP", "recovery", "ok", "HTTP OK")
		d.stop()
		d.waitLog("the counts", "shutting down", `"sent":3`, `"rejected":1`, `"failed":0`)
	})

	t.Run("nsca", func(t *testing.T) {
		fifo := mkfifo(t)
		d := startReceiver(t, "nsca", "--config", config, "-f", fifo)
		d.waitLog("the start", "nsca receiver started", fifo)
		w := openFIFO(t, d, fifo)
		now := time.Now().Unix()
		fmt.Fprintf(w, "[%d] PROCESS_SERVICE_CHECK_RESULT;db-01;DISK;7;odd\n", now)
		fmt.Fprintf(w, "[%d] ACKNOWLEDGE_SVC_PROBLEM;db-01;DISK;1;1;1;ops;on it\n", now)
		fmt.Fprintf(w, "[%d] PROCESS_SERVICE_CHECK_RESULT;db-01;DISK;1;DISK WARNING - / 91%% full|/=91%%;90;95\n", now)
		fmt.Fprintf(w, "[%d]\tPROCESS_HOST_CHECK_RESULT;db-01;1;PING CRITICAL\n", now)
		box.expect(t, server, "db-01:DISK", "problem", "warning", "DISK WARNING - / 91% full")
		box.expect(t, server, "db-01:HOST", "problem", "critical", "PING CRITICAL")
		fmt.Fprintf(w, "[%d] PROCESS_SERVICE_CHECK_RESULT;db-01;DISK;0;DISK OK\n", now+1)
		box.expect(t, server, "db-01:DISK", "recovery", "ok", "DISK OK")
		w.Close()
		d.waitLog("the rejected line", "rejecting line", `return code \"7\" is not 0 (ok), 1 (warning), 2 (critical) or 3 (unknown)`)
		d.stop()
		d.waitLog("the counts", "shutting down", `"sent":3`, `"rejected":2`)
		if strings.Contains(d.stderr.String(), "ACKNOWLEDGE_SVC_PROBLEM") {
			t.Errorf("another command was logged at the info level:\n%s", d.stderr)
		}
	})

	t.Run("oneoff", func(t *testing.T) {
		if r := runFlapjack(t, "receiver", "oneoff", "--config", config, "app-01", "PING", "Critical", "3 ms timeout"); r.code != 0 || r.stdout != "" || r.stderr != "" {
			t.Fatalf("oneoff: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		box.expect(t, server, "app-01:PING", "problem", "critical", "3 ms timeout")
	})

	t.Run("json", func(t *testing.T) {
		events := writeFile(t, dir, "events.json", `{"entity":"app-02","check":"PING","state":"critical","summary":"down"}
{"entity":"app-02"}`)
		r := runFlapjack(t, "receiver", "json", "--config", config, "--from", events)
		want := `Enqueued event data, {"entity":"app-02","check":"PING","state":"critical","summary":"down"}
Invalid event data received, state: missing; check: missing {"entity":"app-02"}
Done.
`
		if r.code != 0 || r.stdout != want {
			t.Fatalf("json: exit %d, stdout\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
		}
		box.expect(t, server, "app-02:PING", "problem", "critical", "down")
	})

	server.stop()
	box.none(t)
}

// recordingIntake is an HTTP event intake over a memory queue, which the test
// reads.
func recordingIntake(t *testing.T) (url string, take func() []string) {
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	q := st.Queue("events")
	srv := httptest.NewServer(api.EventsHandler(q, nil))
	t.Cleanup(srv.Close)
	return srv.URL, func() []string {
		items, err := q.Reserve(context.Background(), 100, false)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			out = append(out, string(it.Payload))
		}
		_ = q.Ack(context.Background(), items...)
		return out
	}
}

func TestReceiverJSON(t *testing.T) {
	intake, take := recordingIntake(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name   string
		input  string
		code   int
		stdout string
		stderr string   // part of stderr; "" for none
		queued []string // the events the intake queued, normalised
	}{{
		name: "valid events, on lines and across them",
		input: `{"entity":"client1-localhost-test-1","check":"foo","state":"ok","summary":"fine"}
{"entity":"client1-localhost-test-2",
 "check":"bar", "state":"CRITICAL",
 "summary":"  broken  "}{"check":"baz","state":"warning"}
`,
		stdout: `Enqueued event data, {"entity":"client1-localhost-test-1","check":"foo","state":"ok","summary":"fine"}
Enqueued event data, {"entity":"client1-localhost-test-2","check":"bar","state":"CRITICAL","summary":"  broken  "}
Enqueued event data, {"check":"baz","state":"warning"}
Done.
`,
		queued: []string{
			`{"state":"ok","check":"foo","entity":"client1-localhost-test-1","time":T,"summary":"fine"}`,
			`{"state":"critical","check":"bar","entity":"client1-localhost-test-2","time":T,"summary":"broken"}`,
			`{"state":"warning","check":"baz","time":T}`,
		},
	}, {
		name:  "invalid events are reported, not sent",
		input: `{"entity":"client1-localhost-test-1"} {"entity":"client1-localhost-test-2","check":"bar"}` + "\n[1,2]\n" + `{"check":"x","state":"ok","foo":1}`,
		stdout: `Invalid event data received, state: missing; check: missing {"entity":"client1-localhost-test-1"}
Invalid event data received, state: missing {"entity":"client1-localhost-test-2","check":"bar"}
Invalid event data received, event must be a JSON object, got array [1,2]
Invalid event data received, foo: unknown key {"check":"x","state":"ok","foo":1}
Done.
`,
	}, {
		name:   "a truncated object followed by another",
		input:  `{"check":"a","state":"ok"}` + "\n" + `{"entity":"client1-localhost-test-1"` + "\n" + `{"entity":"client1-localhost-test-2","check":"bar"}`,
		code:   1,
		stdout: `Enqueued event data, {"check":"a","state":"ok"}` + "\n",
		stderr: "flapjack: invalid JSON after 65 bytes: invalid character '{' after object key:value pair\n",
		queued: []string{`{"state":"ok","check":"a","time":T}`},
	}, {
		name:   "an object cut short at the end",
		input:  `{"check":"a",`,
		code:   1,
		stderr: "flapjack: invalid JSON after 13 bytes: unexpected end of input inside a value\n",
	}, {
		name:   "nothing",
		input:  "\n",
		stdout: "Done.\n",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "events.json", tc.input)
			for _, how := range []string{"--from", "stdin"} {
				var r result
				if how == "--from" {
					r = runFlapjack(t, "receiver", "json", "--intake", intake, "--from", path)
				} else {
					r = runWithStdin(t, path, "receiver", "json", "--intake", intake)
				}
				if r.code != tc.code || r.stdout != tc.stdout {
					t.Errorf("%s: exit %d, stdout\n%s\nwant %d and\n%s", how, r.code, r.stdout, tc.code, tc.stdout)
				}
				if tc.stderr == "" && r.stderr != "" || !strings.Contains(r.stderr, tc.stderr) {
					t.Errorf("%s: stderr %q, want %q", how, r.stderr, tc.stderr)
				}
				got := take()
				for i := range got {
					got[i] = regexp.MustCompile(`"time":\d+`).ReplaceAllString(got[i], `"time":T`)
				}
				if strings.Join(got, "\n") != strings.Join(tc.queued, "\n") {
					t.Errorf("%s: queued\n%s\nwant\n%s", how, strings.Join(got, "\n"), strings.Join(tc.queued, "\n"))
				}
			}
		})
	}

	t.Run("errors", func(t *testing.T) {
		valid := writeFile(t, dir, "valid.json", `{"check":"a","state":"ok"}`)
		for _, tc := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"missing file", []string{"--from", filepath.Join(dir, "missing.json"), "--intake", intake}, 1, "missing.json: no such file or directory"},
			{"intake down", []string{"--from", valid, "--intake", "http://127.0.0.1:1"}, 1, `event not sent: POST http://127.0.0.1:1/events: dial tcp 127.0.0.1:1: connect: connection refused: {"check":"a","state":"ok"}`},
			{"queue without redis", []string{"--from", valid, "--queue", "other"}, 2, "--queue names a Redis list, which needs a [redis] table"},
			{"bad intake", []string{"--from", valid, "--intake", "127.0.0.1:3081"}, 2, "--intake: intake URL"},
		} {
			r := runFlapjack(t, append([]string{"receiver", "json"}, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("%s: exit %d, stderr %q; want %d saying %q", tc.name, r.code, r.stderr, tc.code, tc.want)
			}
		}
	})
}

// TestReceiverJSONStopsOnSignal: a stream that stays open ends with SIGTERM.
func TestReceiverJSONStopsOnSignal(t *testing.T) {
	intake, take := recordingIntake(t)
	cmd := exec.Command(binary, "receiver", "json", "--intake", intake)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	})
	if _, err := io.WriteString(stdin, `{"check":"a","state":"ok"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	const enqueued = `Enqueued event data, {"check":"a","state":"ok"}` + "\n"
	for deadline := time.Now().Add(wait); stdout.String() != enqueued; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("stdout %q, want %q", stdout.String(), enqueued)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil || stdout.String() != enqueued+"Done.\n" || stderr.String() != "" {
			t.Errorf("after SIGTERM: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
		}
	case <-time.After(wait):
		t.Fatalf("still running %s after SIGTERM", wait)
	}
	if got := take(); len(got) != 1 {
		t.Errorf("queued %q", got)
	}
}

// runWithStdin runs the binary with the file at path as its standard input.
func runWithStdin(t *testing.T, path string, args ...string) result {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	return runWithInput(t, in, args...)
}

func runWithInput(t *testing.T, in *os.File, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr syncBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("flapjack %s did not finish within %s", strings.Join(args, " "), wait)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

func TestReceiverOneoffErrors(t *testing.T) {
	intake, take := recordingIntake(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"too few arguments", []string{"app-01", "PING", "ok"}, "accepts 4 arg(s), received 3"},
		{"an empty argument", []string{"app-01", "PING", "ok", " "}, "SUMMARY is empty"},
		{"unknown state", []string{"app-01", "PING", "down", "x"}, `state: "down" is not one of ok, warning, critical, unknown`},
		{"intake down", []string{"--intake", "http://127.0.0.1:1", "app-01", "PING", "ok", "x"}, "event not sent: POST http://127.0.0.1:1/events: dial tcp 127.0.0.1:1: connect: connection refused"},
	} {
		r := runFlapjack(t, append([]string{"receiver", "oneoff", "--intake", intake}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 saying %q", tc.name, r.code, r.stderr, tc.want)
		}
	}
	if got := take(); len(got) != 0 {
		t.Errorf("queued %q", got)
	}
	r := runFlapjack(t, "receiver", "oneoff", "--intake", intake, "app-01", "PING", "ok", "fine")
	if got := take(); r.code != 0 || len(got) != 1 || !strings.HasPrefix(got[0], `{"state":"ok","check":"PING","entity":"app-01","time":`) {
		t.Errorf("oneoff: exit %d, stderr %q, queued %q", r.code, r.stderr, got)
	}
}

func TestReceiverFIFOStartupErrors(t *testing.T) {
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain", "")
	config := writeFile(t, dir, "flapjack.toml", "[nagios-receiver]\nfifo = \"nowhere.fifo\"\n\n[nsca-receiver]\nfifo = \"plain\"\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"nagios", "--config", config}, "flapjack: fifo: stat " + filepath.Join(dir, "nowhere.fifo") + ": no such file or directory\n"},
		{[]string{"nsca", "--config", config}, "flapjack: fifo " + plain + ": not a named pipe (create one with mkfifo)\n"},
		{[]string{"nsca", "--config", config, "--fifo", dir}, "flapjack: fifo " + dir + ": not a named pipe"},
	} {
		r := runFlapjack(t, append([]string{"receiver"}, tc.args...)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("receiver %s: exit %d, stderr %q; want 1 saying %q", strings.Join(tc.args, " "), r.code, r.stderr, tc.want)
		}
	}
}

func TestReceiverHTTPBroker(t *testing.T) {
	type sent struct {
		ev  flapjack.Event
		err error
		at  time.Time
	}
	got := make(chan sent, 1000)
	intake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ev, err := flapjack.ParseEvent(b)
		got <- sent{ev, err, time.Now()}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"accepted":1,"rejected":[]}`)
	}))
	defer intake.Close()

	port := freePort(t)
	d := startReceiver(t, "httpbroker", "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--interval", "100ms", "--intake", intake.URL)
	base := fmt.Sprintf("http://127.0.0.1:%d/state", port)
	d.waitLog("that it listens", "httpbroker listening", base)

	code, reply := postEvents(t, base, `{"entity":"foo-app-01","check":"PING","state":"critical","summary":"3 ms","ttl":1}`)
	if code != http.StatusOK || !strings.HasPrefix(reply, `Caching state: {"entity":"foo-app-01","check":"PING","type":"service","state":"critical","summary":"3 ms","details":"","tags":null,"time":`) {
		t.Fatalf("POST /state: %d %q", code, reply)
	}
	posted := time.Now()
	if code, reply := postEvents(t, base, `{"entity":"foo-app-01","check":"PING","state":"later"}`); code != http.StatusBadRequest || !strings.Contains(reply, `state: "later" is not ok, warning, critical or unknown`) {
		t.Errorf("invalid POST /state: %d %q", code, reply)
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	var cache map[string]map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&cache); err != nil || cache["foo-app-01:PING"]["state"] != "critical" || len(cache) != 1 {
		t.Errorf("GET /state: %v (%v)", cache, err)
	}
	resp.Body.Close()

	// Fresh states every interval, each with the time it was sent; then, once
	// older than the ttl of 1 s, stale ones.
	stale := regexp.MustCompile(`^httpbroker: Cached state is stale \((\d+)s old, should be < 1s\)$`)
	fresh, n, first := 0, 0, time.Time{}
	deadline := time.After(wait)
	for done := false; !done; {
		select {
		case s := <-got:
			if s.err != nil || s.ev.CheckName() != "foo-app-01:PING" {
				t.Fatalf("sent %+v (%v)", s.ev, s.err)
			}
			if d := s.at.Unix() - s.ev.Time; d < 0 || d > 1 {
				t.Errorf("sent at %s with time %d", s.at, s.ev.Time)
			}
			switch s.ev.State {
			case "critical":
				if fresh++; s.ev.Summary != "3 ms" || time.Since(posted) > 3*time.Second {
					t.Errorf("fresh state %+v, %s after posting", s.ev, time.Since(posted))
				}
			case "unknown":
				if !stale.MatchString(s.ev.Summary) || fresh < 2 {
					t.Errorf("stale state %+v after %d fresh ones", s.ev, fresh)
				}
				done = true
			default:
				t.Fatalf("sent %+v", s.ev)
			}
			if first.IsZero() {
				first = s.at
			}
			// A late tick may come right after the one before, never more often.
			if n++; n > 2 && time.Duration(n-2)*100*time.Millisecond > s.at.Sub(first) {
				t.Errorf("%d sends within %s, at an interval of 100ms", n, s.at.Sub(first))
			}
		case <-deadline:
			t.Fatalf("no stale state sent within %s (%d fresh ones):\n%s", wait, fresh, d.stderr)
		}
	}
	d.stop()

	// PORT sets the default port; a PORT that is no port is refused.
	cmd := exec.Command(binary, "receiver", "httpbroker", "--intake", intake.URL)
	cmd.Env = append(os.Environ(), "PORT=http")
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 2 || !strings.Contains(string(out), `PORT="http" is not a port number; give --port`) {
		t.Errorf("PORT=http: exit %d, output %q", cmd.ProcessState.ExitCode(), out)
	}
	r := runFlapjack(t, "receiver", "httpbroker", "--help")
	if !strings.Contains(r.stdout, "httpbroker: Cached state is stale (<age>s old, should be < <ttl>s)") || !strings.Contains(r.stdout, "--interval duration") {
		t.Errorf("help:\n%s", r.stdout)
	}
}

// TestReceiverOnRedis: with a [redis] table the receivers push onto the events
// list, under a consumer id of their own, with the v2 wake token only when the
// URL asks for it.
func TestReceiverOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: 3})
	t.Cleanup(func() { rdb.Close() })
	ctx := t.Context()
	dir := t.TempDir()
	for _, tc := range []struct {
		name, url string
		args      []string
		queue     string
		tokens    int64
	}{
		{"plain", srv.URL(3), nil, "events", 0},
		{"another queue, with wake tokens", srv.URL(3) + "?wake_tokens=true", []string{"--queue", "checks"}, "checks", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf("[redis]\nurl = %q\nconsumer = \"flapjack@test\"\n", tc.url))
			r := runFlapjack(t, append([]string{"receiver", "oneoff", "--config", config, "web-01", "HTTP", "critical", "502"}, tc.args...)...)
			if r.code != 0 {
				t.Fatalf("oneoff: exit %d, stderr %s", r.code, r.stderr)
			}
			items, err := rdb.LRange(ctx, tc.queue, 0, -1).Result()
			if err != nil || len(items) != 1 || !strings.HasPrefix(items[0], `{"state":"critical","check":"HTTP","entity":"web-01","time":`) {
				t.Errorf("LRANGE %s = %q, %v", tc.queue, items, err)
			}
			if n, err := rdb.LLen(ctx, tc.queue+"_actions").Result(); err != nil || n != tc.tokens {
				t.Errorf("LLEN %s_actions = %d, %v; want %d", tc.queue, n, err, tc.tokens)
			}
			if _, err := rdb.ZScore(ctx, "consumers", "flapjack@test").Result(); err != redis.Nil {
				t.Errorf("the receiver used the daemon's consumer id (%v)", err)
			}
			rdb.Del(ctx, tc.queue, tc.queue+"_actions")
		})
	}
}
