package main

// Operating the daemon: its metrics and health endpoints, its reload on SIGHUP,
// and its log levels per component, through the built binary.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack/internal/redistest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue returns the value of the series named exactly series (name and
// labels as the text format writes them) in a /metrics body.
func metricValue(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(rest, 64)
			return v, err == nil
		}
	}
	return 0, false
}

// waitMetric polls /metrics until series has the value want.
func (d *daemon) waitMetric(base, series string, want float64) string {
	d.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		_, body := get(d.t, base+"/metrics")
		if v, ok := metricValue(body, series); ok && v == want {
			return body
		}
		if time.Now().After(deadline) {
			v, ok := metricValue(body, series)
			d.t.Fatalf("%s is %v (present: %v), not %v, after %s:\n%s\nlog:\n%s", series, v, ok, want, wait, body, d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetricsAndHealth(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", `contacts:
  - id: ops
    media: [{id: ops_log, transport: log, address: ops-desk, interval: 60}]
    rules: [{id: all, strategy: global, media: [ops_log]}]
`)
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
level = "info"
format = "json"

[processor]
log_level = "debug"

[setup]
file = "setup.yaml"

[gateways.jsonapi]
port = %d

[gateways.log]
enabled = true
`, port))
	d := startServer(t, "--config", config)
	d.waitLog("that the intake listens", "event intake listening", fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	if code, body := get(t, base+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	deadline := time.Now().Add(wait)
	for {
		code, body := get(t, base+"/readyz")
		var rep struct {
			Status string `json:"status"`
			Stages []struct {
				Name, State string
			} `json:"stages"`
		}
		if err := json.Unmarshal([]byte(body), &rep); err != nil {
			t.Fatalf("GET /readyz: %d %s: %v", code, body, err)
		}
		if code == http.StatusOK {
			if rep.Status != "ready" || len(rep.Stages) != 3 {
				t.Errorf("GET /readyz: %s, want ready with the processor, the notifier and the log gateway", body)
			}
			break
		}
		if code != http.StatusServiceUnavailable || rep.Status != "not ready" || time.Now().After(deadline) {
			t.Fatalf("GET /readyz: %d %s", code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}

	events := base + "/events"
	body := `[{"entity":"web-01","check":"HTTP","state":"critical","summary":"502","initial_failure_delay":0},
	          {"entity":"web-01","check":"disk","state":"ok"},
	          {"entity":"web-02","check":"HTTP","state":"warning","initial_failure_delay":0}]`
	if code, reply := postEvents(t, events, body); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s", code, reply)
	}
	d.waitLog("the alerts", "Alert via log:ops-desk", "web-02:HTTP")
	m := d.waitMetric(base, `flapjack_delivery_sent_total{transport="log"}`, 2)
	for series, want := range map[string]float64{
		`flapjack_events_total{kind="all"}`:                                                         3,
		`flapjack_events_total{kind="failure"}`:                                                     2,
		`flapjack_events_total{kind="ok"}`:                                                          1,
		`flapjack_events_total{kind="invalid"}`:                                                     0,
		`flapjack_processor_event_duration_seconds_count`:                                           3,
		`flapjack_notifications_total{type="problem"}`:                                              2,
		`flapjack_alerts_total{transport="log"}`:                                                    2,
		`flapjack_notifier_notification_duration_seconds_count`:                                     2,
		`flapjack_delivery_failed_total{transport="log"}`:                                           0,
		`flapjack_delivery_dead_lettered_total{transport="log"}`:                                    0,
		`flapjack_delivery_duration_seconds_count{transport="log"}`:                                 2,
		`flapjack_queue_length{kind="events",queue="events",transport=""}`:                          0,
		`flapjack_queue_length{kind="notifications",queue="notifications",transport=""}`:            0,
		`flapjack_queue_length{kind="alerts",queue="log_notifications",transport="log"}`:            0,
		`flapjack_queue_length{kind="dead_letters",queue="log_notifications_dead",transport="log"}`: 0,
		`flapjack_store_up`:                               1,
		`flapjack_stage_up{stage="processor"}`:            1,
		`flapjack_stage_up{stage="gateway log"}`:          1,
		`flapjack_stage_restarts_total{stage="notifier"}`: 0,
	} {
		if v, ok := metricValue(m, series); !ok || v != want {
			t.Errorf("%s = %v (present: %v), want %v", series, v, ok, want)
		}
	}
	if !strings.Contains(m, "# TYPE flapjack_delivery_duration_seconds histogram") || !strings.Contains(m, "process_start_time_seconds") {
		t.Errorf("/metrics lacks the delivery histogram or the process metrics:\n%s", m)
	}

	// [processor] log_level = "debug" shows the processor's decisions, and
	// nothing else's debug lines.
	d.waitLog("a debug line of the processor", `"level":"DEBUG"`, `"msg":"event processed"`, `"component":"processor"`)
	for _, line := range strings.Split(d.stderr.String(), "\n") {
		if strings.Contains(line, `"level":"DEBUG"`) && !strings.Contains(line, `"component":"processor"`) {
			t.Errorf("a debug line of another component: %s", line)
		}
	}
	d.stop()
}

func TestReloadOnSIGHUP(t *testing.T) {
	hook := make(chan map[string]any, 100)
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &a); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		hook <- a
	}))
	defer webhook.Close()

	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", `contacts:
  - id: ops
    media: [{id: ops_log, transport: log, address: ops-desk, interval: 60}]
    rules: [{id: all, strategy: global, media: [ops_log]}]
`)
	port := freePort(t)
	configText := fmt.Sprintf(`[logger]
format = "json"

[setup]
file = "setup.yaml"

[gateways.jsonapi]
port = %d

[gateways.log]
enabled = true

[gateways.webhook]
enabled = true
timeout = 5
`, port)
	config := writeFile(t, dir, "flapjack.toml", configText)
	d := startServer(t, "--config", config)
	d.waitLog("that the intake listens", "event intake listening")
	d.waitLog("the start", "flapjack started")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	events := base + "/events"
	pid := d.cmd.Process.Pid

	if code, body := postEvents(t, events, `{"entity":"web-01","check":"HTTP","state":"critical","initial_failure_delay":0}`); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	d.waitLog("the first alert", "Alert via log:ops-desk", "web-01:HTTP")

	// A new contact with a webhook medium, a changed webhook table, and a burst
	// of events queued as the signal arrives.
	writeFile(t, dir, "setup.yaml", fmt.Sprintf(`contacts:
  - id: ops
    media: [{id: ops_log, transport: log, address: ops-desk, interval: 60}]
    rules: [{id: all, strategy: global, media: [ops_log]}]
  - id: oncall
    name: On call
    media: [{id: oncall_hook, transport: webhook, address: %q, interval: 60}]
    rules: [{id: oncall_all, strategy: global, media: [oncall_hook]}]
`, webhook.URL+"/oncall"))
	writeFile(t, dir, "flapjack.toml", strings.Replace(configText, "timeout = 5", "timeout = 7", 1))
	const burst = 300
	var batch strings.Builder
	batch.WriteString("[")
	for i := range burst {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"entity":"load-%d","check":"ping","state":"ok"}`, i)
	}
	batch.WriteString("]")
	if code, body := postEvents(t, events, batch.String()); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	line := d.waitLog("the reload", "configuration reloaded")
	if !strings.Contains(line, `"restarted":["gateway webhook"]`) {
		t.Errorf("the reload restarted other than the changed gateway: %s", line)
	}
	d.waitLog("the new set-up data", "set-up data loaded", `"contacts":2`)

	if code, body := postEvents(t, events, `{"entity":"db-01","check":"disk","state":"critical","summary":"full","initial_failure_delay":0}`); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s", code, body)
	}
	select {
	case a := <-hook:
		if a["contact_id"] != "oncall" || a["check_name"] != "db-01:disk" || a["type"] != "problem" {
			t.Errorf("the new medium received %v", a)
		}
	case <-time.After(wait):
		t.Fatalf("the new contact's webhook received nothing within %s:\n%s", wait, d.stderr)
	}
	// Every event counted by the same process: none lost, none counted anew.
	d.waitMetric(base, `flapjack_events_total{kind="all"}`, 1+burst+1)
	d.waitMetric(base, `flapjack_queue_length{kind="events",queue="events",transport=""}`, 0)
	if d.cmd.ProcessState != nil || d.cmd.Process.Pid != pid {
		t.Fatalf("the daemon is not the same process")
	}
	select {
	case err := <-d.done:
		t.Fatalf("the daemon exited (%v):\n%s", err, d.stderr)
	default:
	}
	d.stop()
}

func TestReloadKeepsRunningConfigurationOnError(t *testing.T) {
	dir := t.TempDir()
	// Interval 0: every problem of a check is alerted, so each step sees one.
	const setupText = `contacts:
  - id: ops
    media: [{id: ops_log, transport: log, address: ops-desk, interval: 0}]
    rules: [{id: all, strategy: global, media: [ops_log]}]
`
	writeFile(t, dir, "setup.yaml", setupText)
	port := freePort(t)
	good := fmt.Sprintf("[logger]\nformat = \"json\"\n\n[setup]\nfile = \"setup.yaml\"\n\n[gateways.jsonapi]\nport = %d\n\n[gateways.log]\nenabled = true\n", port)
	config := writeFile(t, dir, "flapjack.toml", good)
	d := startServer(t, "--config", config)
	d.waitLog("the start", "flapjack started")
	events := fmt.Sprintf("http://127.0.0.1:%d/events", port)

	for i, tc := range []struct {
		what, config, setup string
		want                string // in the logged error, as JSON quotes it
	}{{
		what:   "an unknown level",
		config: good + "log_level = \"chatty\"\n",
		want:   config + `:12: [gateways.log] log_level \"chatty\" is not debug, info, warn or error`,
	}, {
		what:   "a TOML error",
		config: good + "[processor\n",
		want:   config + `:12: toml: expected ']' to close table name`,
	}, {
		what:   "invalid set-up data",
		config: good,
		setup:  "contacts:\n  - id: ops\n    media:\n      - {id: m, transport: pigeon, address: loft}\n",
		want:   `medium \"m\": unknown transport \"pigeon\"`,
	}} {
		writeFile(t, dir, "flapjack.toml", tc.config)
		if tc.setup != "" {
			writeFile(t, dir, "setup.yaml", tc.setup)
		}
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		// This reload's line follows the earlier ones'.
		deadline := time.Now().Add(wait)
		var rejected []string
		for {
			rejected = rejected[:0]
			for _, l := range strings.Split(d.stderr.String(), "\n") {
				if strings.Contains(l, "configuration not reloaded; the running one is kept") {
					rejected = append(rejected, l)
				}
			}
			if len(rejected) > i {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no rejected reload logged:\n%s", tc.what, d.stderr)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if line := rejected[i]; !strings.Contains(line, `"level":"ERROR"`) || !strings.Contains(line, tc.want) {
			t.Errorf("%s: the log line %s does not give the error %s", tc.what, line, tc.want)
		}
		// The daemon runs on, as configured before.
		check := fmt.Sprintf("after-%d", i)
		if code, body := postEvents(t, events, fmt.Sprintf(`{"entity":%q,"check":"HTTP","state":"critical","initial_failure_delay":0}`, check)); code != http.StatusAccepted {
			t.Fatalf("POST /events: %d %s", code, body)
		}
		d.waitLog(tc.what+": an alert after the rejected reload", "Alert via log:ops-desk", check+":HTTP")
		writeFile(t, dir, "setup.yaml", setupText)
	}
	if strings.Contains(d.stderr.String(), "configuration reloaded") {
		t.Errorf("a broken configuration was applied:\n%s", d.stderr)
	}
	d.stop()
}

// TestSIGHUPWithNothingChanged: a reload of the same configuration restarts
// nothing.
func TestSIGHUPWithNothingChanged(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf("[logger]\nformat = \"json\"\n\n[gateways.jsonapi]\nport = %d\n", port))
	d := startServer(t, "--config", config)
	d.waitLog("the start", "flapjack started")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	d.waitLog("the reload", "configuration reloaded", `"restarted":[]`)
	if code, _ := get(t, fmt.Sprintf("http://127.0.0.1:%d/healthz", port)); code != http.StatusOK {
		t.Errorf("GET /healthz after SIGHUP: %d", code)
	}
	d.stop()
}

// TestOperationsOnRedis: the metrics count what producers push straight onto
// Redis, invalid events included; the queue gauges read Redis; readiness
// follows the server going away and coming back, while the process stays alive.
func TestOperationsOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	ctx := t.Context()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DB: 4})
	t.Cleanup(func() { rdb.Close() })

	port := freePort(t)
	dir := t.TempDir()
	// No notifier: the notifications wait on their queue.
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
format = "json"

[redis]
host = "127.0.0.1"
port = %d
db = 4

[notifier]
enabled = false

[gateways.jsonapi]
port = %d
`, srv.Port(), port))
	d := startServer(t, "--config", config)
	d.waitLog("the start", "flapjack started")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)

	for _, ev := range []string{
		`{"entity":"db-01","check":"DISK","state":"critical","initial_failure_delay":0}`,
		`{"entity":"db-02","check":"DISK","state":"critical","initial_failure_delay":0}`,
		`{"entity":"db-03","check":"DISK","state":"sideways"}`,
		`not json`,
	} {
		if err := rdb.LPush(ctx, "events", ev).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := d.waitMetric(base, `flapjack_events_total{kind="all"}`, 4)
	for series, want := range map[string]float64{
		`flapjack_events_total{kind="invalid"}`:                                          2,
		`flapjack_events_total{kind="failure"}`:                                          2,
		`flapjack_queue_length{kind="notifications",queue="notifications",transport=""}`: 2,
		`flapjack_queue_length{kind="events",queue="events",transport=""}`:               0,
		`flapjack_store_up`: 1,
	} {
		if v, ok := metricValue(m, series); !ok || v != want {
			t.Errorf("%s = %v (present: %v), want %v", series, v, ok, want)
		}
	}
	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz: %d %s", code, body)
	}

	srv.Stop()
	code, body := get(t, base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"status":"not ready"`) || !strings.Contains(body, "store unreachable") {
		t.Errorf("GET /readyz without Redis: %d %s", code, body)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz without Redis: %d", code)
	}
	if _, m := get(t, base+"/metrics"); !strings.Contains(m, "\nflapjack_store_up 0\n") {
		t.Errorf("/metrics without Redis does not say the store is down")
	}

	srv.Restart()
	deadline := time.Now().Add(wait)
	for {
		code, body := get(t, base+"/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready %s after Redis came back: %s", wait, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.stop()
}
