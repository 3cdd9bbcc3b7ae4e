package main

// The daemon on a real redis-server: fed as Flapjack's producers feed it, and
// through its HTTP intake. Without redis-server these tests are skipped, unless
// FLAPJACK_TEST_REQUIRE_SERVERS is set (see internal/redistest).

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack/internal/redistest"
)

// redisPassword is the server's password: it must never show in the daemon's
// output.
const redisPassword = "pw-0f-the-s3rver"

func TestServerOnRedis(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{Args: []string{"--requirepass", redisPassword}})
	for _, tc := range []struct {
		name  string
		db    int
		table string // the [redis] table
		url   string // the address the daemon should log
	}{{
		name: "v2 keys",
		db:   6,
		table: fmt.Sprintf("[redis]\nhost = \"127.0.0.1\"\nport = %d\ndb = 6\npassword = %q\ndriver = \"ruby\"\n",
			srv.Port(), redisPassword),
		url: fmt.Sprintf("redis://:xxxxx@%s/6", srv.Addr()),
	}, {
		name:  "url",
		db:    13,
		table: fmt.Sprintf("[redis]\nurl = \"redis://:%s@%s/13\"\nconsumer = \"flapjack@test\"\n", redisPassword, srv.Addr()),
		url:   fmt.Sprintf("redis://:xxxxx@%s/13", srv.Addr()),
	}} {
		t.Run(tc.name, func(t *testing.T) {
			testServerOnRedis(t, srv, tc.db, tc.table, tc.url)
		})
	}
}

func testServerOnRedis(t *testing.T, srv *redistest.Server, db int, table, wantURL string) {
	ctx := t.Context()
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: redisPassword, DB: db})
	t.Cleanup(func() { rdb.Close() })

	hook := make(chan map[string]any, 10)
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var alert map[string]any
		if err := json.Unmarshal(b, &alert); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		hook <- alert
	}))
	defer webhook.Close()
	// alert waits for the webhook's next alert and checks its check and type.
	alert := func(d *daemon, check, typ string) {
		t.Helper()
		select {
		case a := <-hook:
			if a["check_name"] != check || a["type"] != typ || a["medium_id"] != "ops_hook" {
				t.Errorf("webhook received %v, want a %s alert for %s", a, typ, check)
			}
		case <-time.After(wait):
			t.Fatalf("the webhook received no %s alert for %s within %s:\n%s", typ, check, wait, d.stderr)
		}
	}

	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", fmt.Sprintf(`contacts:
  - id: ops
    name: Ops
    media: [{id: ops_hook, transport: webhook, address: %q, interval: 60}]
    rules: [{id: all, strategy: global, media: [ops_hook]}]
`, webhook.URL+"/alerts"))
	port := freePort(t)
	config := writeFile(t, dir, "flapjack.toml", fmt.Sprintf(`[logger]
format = "json"

%s
[setup]
file = "setup.yaml"

[gateways.jsonapi]
port = %d

[gateways.webhook]
enabled = true
`, table, port))

	d := startServer(t, "--config", config)
	line := d.waitLog("the store in use", "using the Redis store")
	if !strings.Contains(line, `"url":"`+wantURL+`"`) {
		t.Errorf("store log line %s does not give the address %s", line, wantURL)
	}
	d.waitLog("that the intake listens", "event intake listening")

	// A Flapjack v2 producer (Nagios flapjackfeeder, oneoff): the event and a
	// wake token, in one transaction.
	event := fmt.Sprintf(`{"entity":"db-01","check":"DISK","type":"service","state":"critical",`+
		`"summary":"DISK CRITICAL - / 98%% full","details":"","tags":["db"],"initial_failure_delay":0,`+
		`"repeat_failure_delay":0,"initial_recovery_delay":0,"time":%d}`, time.Now().Unix())
	if _, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, "events", event)
		p.LPush(ctx, "events_actions", "+")
		return nil
	}); err != nil {
		t.Fatalf("LPUSH events: %v", err)
	}
	alert(d, "db-01:DISK", "problem")

	// A v1 producer pushes no wake token; the HTTP intake pushes onto the same list.
	if err := rdb.LPush(ctx, "events", `{"entity":"db-01","check":"DISK","state":"ok","summary":"DISK OK"}`).Err(); err != nil {
		t.Fatalf("LPUSH events: %v", err)
	}
	alert(d, "db-01:DISK", "recovery")
	events := fmt.Sprintf("http://127.0.0.1:%d/events", port)
	if code, body := postEvents(t, events, `{"entity":"web-01","check":"HTTP","state":"critical","summary":"502","initial_failure_delay":0}`); code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s, want 202", code, body)
	}
	alert(d, "web-01:HTTP", "problem")

	// Everything lives in Redis: the checks, and this process's statistics.
	for _, key := range []string{"check:db-01:DISK", "check:web-01:HTTP"} {
		if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Errorf("EXISTS %s = %d, %v; want the check in Redis", key, n, err)
		}
	}
	host, _ := os.Hostname()
	instance := host + ":" + strconv.Itoa(d.cmd.Process.Pid)
	// The processor counts an event just after handing its notification on.
	for deadline := time.Now().Add(wait); ; time.Sleep(5 * time.Millisecond) {
		n, err := rdb.HGet(ctx, "statistic:"+instance, "all_events").Int()
		if err == nil && n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("all_events of %s = %d, %v; want 3", instance, n, err)
		}
	}

	d.stop()
	if n, err := rdb.Exists(ctx, "statistic:"+instance).Result(); err != nil || n != 0 {
		t.Errorf("statistics of %s still in Redis after a clean shutdown (%d, %v)", instance, n, err)
	}
	if ok, err := rdb.SIsMember(ctx, "statistics", instance).Result(); err != nil || ok {
		t.Errorf("%s still listed in statistics after a clean shutdown (%v, %v)", instance, ok, err)
	}
	if n, err := rdb.HGet(ctx, "statistic:global", "all_events").Int(); err != nil || n != 3 {
		t.Errorf("global all_events = %d, %v; want 3, kept after shutdown", n, err)
	}
	if n, err := rdb.LLen(ctx, "events").Result(); err != nil || n != 0 {
		t.Errorf("events holds %d items (%v) after shutdown, want none", n, err)
	}
	if strings.Contains(d.stderr.String(), redisPassword) {
		t.Errorf("the password is in the log:\n%s", d.stderr)
	}
	if strings.Contains(table, "driver") {
		d.waitLog("the warning about driver", `"level":"WARN"`, `[redis] driver \"ruby\" is a Flapjack v2 setting with no meaning here; ignored`)
	}
	select {
	case a := <-hook:
		t.Errorf("unexpected further alert %v", a)
	default:
	}
}

// TestServerRedisWrongPassword: a server refusing the password is an exit
// status 2 at start-up, naming the table, without the password.
func TestServerRedisWrongPassword(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{Args: []string{"--requirepass", redisPassword}})
	dir := t.TempDir()
	const wrong = "n0t-the-p4ssword"
	path := writeFile(t, dir, "flapjack.toml", fmt.Sprintf("[logger]\nformat = \"json\"\n\n[redis]\nurl = \"redis://flapjack:%s@%s/0\"\n", wrong, srv.Addr()))
	r := runFlapjack(t, "server", "--config", path)
	want := fmt.Sprintf("%s:4: [redis] cannot use redis://flapjack:xxxxx@%s/0: ", path, srv.Addr())
	if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "WRONGPASS") {
		t.Errorf("exit status %d, stderr:\n%s\nwant 2 and %q…WRONGPASS", r.code, r.stderr, want)
	}
	if strings.Contains(r.stderr, wrong) {
		t.Errorf("the password is in the output:\n%s", r.stderr)
	}
}

// TestServerRedisUnreachable needs no server: nothing listens on the port.
func TestServerRedisUnreachable(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	const secret = "s3cret-in-url"
	for _, tc := range []struct{ name, table, addr string }{
		{"url", fmt.Sprintf("url = \"redis://ops:%s@127.0.0.1:%d/2\"\n", secret, port), fmt.Sprintf("redis://ops:xxxxx@127.0.0.1:%d/2", port)},
		{"v2 keys", fmt.Sprintf("port = %d\npassword = %q\n", port, secret), fmt.Sprintf("redis://:xxxxx@127.0.0.1:%d/0", port)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, dir, "flapjack.toml", "[redis]\n"+tc.table)
			r := runFlapjack(t, "server", "--config", path)
			want := fmt.Sprintf("%s:1: [redis] cannot use %s: ", path, tc.addr)
			if r.code != 2 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "connection refused") {
				t.Errorf("exit status %d, stderr:\n%s\nwant 2 and %q…connection refused", r.code, r.stderr, want)
			}
			if strings.Contains(r.stderr, secret) {
				t.Errorf("the password is in the output:\n%s", r.stderr)
			}
		})
	}
}
