//go:build unix

package main

// The self check as examples/selfcheck sets it up: Nagios checks the flapper
// and writes its results to a named pipe, "flapjack receiver nagios" puts
// them on Redis, "flapjack server" alerts a chat room, and the oobetet in that
// room pages when the alerts stop.
//
// The whole-chain test runs the example's files. It changes only what a test
// must: the addresses, ports and paths of its own servers, the chat domain
// (the test's Prosody serves "localhost"), and shorter times (see
// selfCheckTimes).

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
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/jabber"
	"github.com/x/flapjack/internal/nagiostest"
	"github.com/x/flapjack/internal/prosodytest"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/oobetet"
	"github.com/x/flapjack/receiver"
)

// selfCheckDir holds the example's files.
const selfCheckDir = "../../examples/selfcheck"

// selfCheckTimes are the whole-chain test's times, in seconds, instead of the
// example's: the flapper's cycle (-f), Nagios' check interval, and the
// oobetet's max_latency and check_interval.
var selfCheckTimes = struct {
	frequency, nagiosInterval, maxLatency, checkInterval int
}{frequency: 4, nagiosInterval: 1, maxLatency: 15, checkInterval: 1}

// selfCheckExample is examples/selfcheck, read.
type selfCheckExample struct {
	flapjack map[string]any // flapjack.toml
	setup    string         // setup.yaml
	main     string         // nagios.cfg: lines of Nagios' main configuration
	objects  string         // flapper.cfg: Nagios objects
}

func loadSelfCheckExample(t *testing.T) *selfCheckExample {
	t.Helper()
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(selfCheckDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	e := &selfCheckExample{setup: read("setup.yaml"), main: read("nagios.cfg"), objects: read("flapper.cfg")}
	if err := toml.Unmarshal([]byte(read("flapjack.toml")), &e.flapjack); err != nil {
		t.Fatalf("flapjack.toml: %v", err)
	}
	return e
}

// table returns the TOML table at the dotted path.
func (e *selfCheckExample) table(t *testing.T, path string) map[string]any {
	t.Helper()
	m := e.flapjack
	for _, k := range strings.Split(path, ".") {
		next, ok := m[k].(map[string]any)
		if !ok {
			t.Fatalf("flapjack.toml has no [%s] table", path)
		}
		m = next
	}
	return m
}

// tomlString returns the string key of a TOML table.
func tomlString(t *testing.T, table map[string]any, key string) string {
	t.Helper()
	s, ok := table[key].(string)
	if !ok {
		t.Fatalf("flapjack.toml: %s is %v, want a string", key, table[key])
	}
	return s
}

// tomlRooms returns the rooms key of a TOML table.
func tomlRooms(t *testing.T, table map[string]any) []string {
	t.Helper()
	list, _ := table["rooms"].([]any)
	var out []string
	for _, r := range list {
		s, ok := r.(string)
		if !ok {
			t.Fatalf("flapjack.toml: rooms holds %v", r)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatal("flapjack.toml: no rooms")
	}
	return out
}

// nagiosMainSettings reads lines of Nagios' main configuration: name to value.
func nagiosMainSettings(t *testing.T, text string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("nagios.cfg: %q is not name=value", line)
		}
		m[name] = value
	}
	return m
}

// jidLocalPart is the part of a JID before the "@".
func jidLocalPart(jid string) string {
	l, _, _ := strings.Cut(jid, "@")
	return l
}

// TestSelfCheckExample: the example's flapjack.toml passes check-config,
// and its files agree with each other and with the receiver.
func TestSelfCheckExample(t *testing.T) {
	r := runFlapjack(t, "check-config", filepath.Join(selfCheckDir, "flapjack.toml"))
	if r.code != 0 || !containsAll(r.stdout, "configuration ok", "gateways jabber, oobetet", "set-up data with 1 check and 1 contact") || r.stderr != "" {
		t.Errorf("check-config: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	e := loadSelfCheckExample(t)
	main := nagiosMainSettings(t, e.main)
	fifo := tomlString(t, e.table(t, "nagios-receiver"), "fifo")
	for name, want := range map[string]string{
		"enable_notifications":           "0",
		"process_performance_data":       "1",
		"host_perfdata_file":             fifo,
		"host_perfdata_file_mode":        "p",
		"host_perfdata_file_template":    tabsShown(receiver.NagiosHostTemplate),
		"service_perfdata_file":          fifo,
		"service_perfdata_file_mode":     "p",
		"service_perfdata_file_template": tabsShown(receiver.NagiosServiceTemplate),
	} {
		if main[name] != want {
			t.Errorf("nagios.cfg: %s=%s, want %s", name, main[name], want)
		}
	}

	host, _ := nagiostest.Directive(e.objects, "service", "host_name")
	service, _ := nagiostest.Directive(e.objects, "service", "service_description")
	oob := e.table(t, "gateways.oobetet")
	if check := tomlString(t, oob, "watched_check"); check != host+":"+service {
		t.Errorf("watched_check %q is not the service %q of host %q in flapper.cfg", check, service, host)
	}
	if !strings.Contains(e.setup, `name: "`+host+":"+service+`"`) {
		t.Errorf("setup.yaml does not declare the check %s:%s", host, service)
	}
	jabberRooms := tomlRooms(t, e.table(t, "gateways.jabber"))
	for _, r := range tomlRooms(t, oob) {
		if !strings.Contains(e.setup, `address: "`+r+`"`) {
			t.Errorf("setup.yaml has no medium for the oobetet's room %s", r)
		}
		found := false
		for _, j := range jabberRooms {
			found = found || j == r
		}
		if !found {
			t.Errorf("the jabber gateway is not in the oobetet's room %s", r)
		}
	}
}

// roomLog records what is said in a chat room.
type roomLog struct {
	mu   sync.Mutex
	msgs []oobetet.Message
	at   []time.Time
}

func (l *roomLog) add(m oobetet.Message) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, m)
	l.at = append(l.at, time.Now())
}

// since returns the messages from the i-th on.
func (l *roomLog) since(i int) []oobetet.Message {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]oobetet.Message(nil), l.msgs[min(i, len(l.msgs)):]...)
}

func (l *roomLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.msgs)
}

func (l *roomLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for i, m := range l.msgs {
		fmt.Fprintf(&b, "%s <%s> %s\n", l.at[i].Format("15:04:05.000"), m.From, m.Body)
	}
	return b.String()
}

// pagerLog records the requests of a PagerDuty Events API v2 stand-in.
type pagerLog struct {
	mu     sync.Mutex
	events []map[string]any
}

func (p *pagerLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev map[string]any
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &ev); err != nil || r.Method != http.MethodPost || r.URL.Path != "/v2/enqueue" {
		ev = map[string]any{"invalid": fmt.Sprintf("%s %s %s", r.Method, r.URL.Path, b)}
	}
	p.mu.Lock()
	p.events = append(p.events, ev)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`)
}

func (p *pagerLog) all() []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]any(nil), p.events...)
}

// TestSelfCheckWithNagios runs the example's whole chain with a real Nagios 4
// checking a real flapper, a real Redis and a real Prosody, and a stand-in for
// PagerDuty: the flapper's alerts reach the room and the oobetet keeps quiet;
// with Nagios stopped the oobetet raises the alarm in the room and on
// PagerDuty within max_latency; with Nagios back it says all is well and
// resolves the incident.
func TestSelfCheckWithNagios(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode: the whole self check takes about 35 s")
	}
	nagiostest.Lookup(t)
	nagiostest.Plugin(t, "check_tcp")
	prosodytest.Lookup(t)
	redistest.Lookup(t)
	times := selfCheckTimes
	e := loadSelfCheckExample(t)
	dir := t.TempDir()

	// The servers.
	rds := redistest.Start(t, redistest.Config{})
	jab, oob := e.table(t, "gateways.jabber"), e.table(t, "gateways.oobetet")
	users := map[string]string{"observer": "observer-pass"}
	for _, table := range []map[string]any{jab, oob} {
		users[jidLocalPart(tomlString(t, table, "jabberid"))] = tomlString(t, table, "password")
	}
	xmpp := prosodytest.Start(t, prosodytest.Config{Users: users})
	exampleRoom := tomlRooms(t, oob)[0]
	room := jidLocalPart(exampleRoom) + "@" + prosodytest.MUCDomain
	pager := &pagerLog{}
	pd := httptest.NewServer(pager)
	t.Cleanup(pd.Close)

	// Flapjack's configuration: the example's, on the test's servers and times.
	for _, table := range []map[string]any{jab, oob} {
		table["jabberid"] = xmpp.JID(jidLocalPart(tomlString(t, table, "jabberid")))
		table["rooms"] = []string{room}
		table["server"], table["port"], table["ca_file"] = "127.0.0.1", xmpp.Port(), xmpp.CAFile()
	}
	oob["max_latency"], oob["check_interval"] = times.maxLatency, times.checkInterval
	oob["pagerduty_events_url"] = pd.URL + "/v2/enqueue"
	redisTable := e.table(t, "redis")
	redisTable["host"], redisTable["port"] = "127.0.0.1", rds.Port()
	fifo := filepath.Join(dir, "event_stream.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("make the perfdata pipe: %v", err)
	}
	e.table(t, "nagios-receiver")["fifo"] = fifo
	e.flapjack["logger"] = map[string]any{"level": "debug"}
	text, err := toml.Marshal(e.flapjack)
	if err != nil {
		t.Fatal(err)
	}
	config := writeFile(t, dir, "flapjack.toml", string(text))
	if !strings.Contains(e.setup, exampleRoom) {
		t.Fatalf("setup.yaml does not name the room %s", exampleRoom)
	}
	writeFile(t, dir, "setup.yaml", strings.ReplaceAll(e.setup, exampleRoom, room))

	// Nagios' configuration: the example's, on the test's pipe, flapper and
	// times (nagiostest's interval_length is 1 second).
	flapperPort := freePort(t)
	main := []string{}
	for _, line := range strings.Split(e.main, "\n") {
		if name, _, ok := strings.Cut(strings.TrimSpace(line), "="); ok && strings.HasSuffix(name, "_perfdata_file") {
			line = name + "=" + fifo
		}
		main = append(main, line)
	}
	command, _ := nagiostest.Directive(e.objects, "service", "check_command")
	name, _, _ := strings.Cut(command, "!")
	objects := e.objects
	for _, d := range [][3]string{
		{"host", "address", "127.0.0.1"},
		{"service", "check_command", name + "!" + strconv.Itoa(flapperPort)},
		{"service", "check_interval", strconv.Itoa(times.nagiosInterval)},
		{"service", "retry_interval", strconv.Itoa(times.nagiosInterval)},
	} {
		if objects, err = nagiostest.SetDirective(objects, d[0], d[1], d[2]); err != nil {
			t.Fatal(err)
		}
	}
	watched := tomlString(t, oob, "watched_check")
	quoted := `"` + watched + `"`

	// The processes, and what to show when the test fails.
	var flapper, recv, server *daemon
	transcript := &roomLog{}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, p := range []struct {
			name string
			d    *daemon
		}{{"flapjack flapper", flapper}, {"flapjack receiver nagios", recv}, {"flapjack server", server}} {
			if p.d != nil {
				t.Logf("%s's log:\n%s", p.name, p.d.stderr)
			}
		}
		t.Logf("the room:\n%s", transcript)
		t.Logf("PagerDuty's requests: %v", pager.all())
	})

	observer, err := jabber.NewRoom(jabber.Config{
		JabberID: xmpp.JID("observer"), Password: "observer-pass", Alias: "observer", Rooms: []string{room},
		Server: "127.0.0.1", Port: xmpp.Port(), CAFile: xmpp.CAFile(), Timeout: 5,
	}, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		_ = observer.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case m := <-observer.Messages():
				transcript.add(m)
			case <-ctx.Done():
				return
			}
		}
	}()
	select {
	case <-observer.Ready():
	case <-time.After(wait):
		t.Fatal("the observer did not join the room")
	}

	flapper = startFlapjack(t, "flapper", "-b", "127.0.0.1", "-P", strconv.Itoa(flapperPort), "-f", strconv.Itoa(times.frequency))
	recv = startReceiver(t, "nagios", "--config", config, "--reopen-delay", "1s")
	recv.waitLog("that it reads the pipe", "reading the fifo", fifo)
	server = startServer(t, "--config", config)

	// waitRoom waits up to timeout for a message from the i-th on that
	// matches, and returns it and the index after it.
	waitRoom := func(what string, i int, timeout time.Duration, match func(oobetet.Message) bool) (oobetet.Message, int) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			for j, m := range transcript.since(i) {
				if match(m) {
					return m, i + j + 1
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("the room did not see %s within %s", what, timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	// waitPager waits up to timeout for a PagerDuty request from the i-th on
	// with the event action, and returns it and the index after it.
	waitPager := func(action string, i int, timeout time.Duration) (map[string]any, int) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for {
			all := pager.all()
			for j := i; j < len(all); j++ {
				if all[j]["event_action"] == action {
					return all[j], j + 1
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("PagerDuty received no %s within %s", action, timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	fromOobetet := func(m oobetet.Message) bool { return m.From == tomlString(t, oob, "alias") }
	isCritical := func(m oobetet.Message) bool {
		return fromOobetet(m) && strings.HasPrefix(m.Body, "Flapjack Self Monitoring is Critical")
	}
	isOK := func(m oobetet.Message) bool { return fromOobetet(m) && m.Body == oobetet.OKText }
	alertOf := func(kind oobetet.Kind) func(oobetet.Message) bool {
		return func(m oobetet.Message) bool {
			k, ok := oobetet.Match(m.Body, watched)
			return ok && k == kind && m.From == tomlString(t, jab, "alias")
		}
	}
	maxLatency := time.Duration(times.maxLatency) * time.Second
	// slack covers the oobetet's tick, the alert path and a loaded machine.
	slack := time.Duration(times.checkInterval)*time.Second + 10*time.Second

	// The daemon is up once the oobetet greets the room.
	_, next := waitRoom("the oobetet's greeting", 0, wait+5*time.Second, func(m oobetet.Message) bool {
		return fromOobetet(m) && strings.HasPrefix(m.Body, "flapjack oobetet gateway started at")
	})
	greeted := time.Now()

	// With Nagios running, the flapper's problems and recoveries reach the
	// room, and the oobetet keeps quiet for longer than max_latency.
	nagios := nagiostest.Start(t, nagiostest.Config{Main: strings.Join(main, "\n"), Objects: objects, Plugins: []string{"check_tcp"}})
	alerts := next
	for range 2 {
		var m oobetet.Message
		m, alerts = waitRoom("a problem alert about "+quoted, alerts, maxLatency, alertOf(oobetet.Problem))
		if !strings.Contains(m.Body, "is Critical") {
			t.Errorf("problem alert %q does not say Critical", m.Body)
		}
		_, alerts = waitRoom("a recovery alert about "+quoted, alerts, maxLatency, alertOf(oobetet.Recovery))
	}
	if quiet := time.Until(greeted.Add(maxLatency + 3*time.Duration(times.checkInterval)*time.Second)); quiet > 0 {
		time.Sleep(quiet)
	}
	for _, m := range transcript.since(next) {
		if isCritical(m) || isOK(m) {
			t.Fatalf("the oobetet said %q while Nagios ran", m.Body)
		}
	}
	if all := pager.all(); len(all) != 0 {
		t.Fatalf("PagerDuty received %v while Nagios ran", all)
	}

	// Nagios stops: no alerts, and the oobetet raises the alarm.
	nagios.Stop()
	stopped := transcript.len()
	m, afterCritical := waitRoom("the oobetet's alarm", stopped, maxLatency+slack, isCritical)
	for _, want := range []string{"haven't seen a test ", " notification in the last " + strconv.Itoa(times.maxLatency) + " seconds", "for " + quoted} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("alarm %q lacks %q", m.Body, want)
		}
	}
	hostname, _ := os.Hostname()
	trigger, afterTrigger := waitPager("trigger", 0, slack)
	payload, _ := trigger["payload"].(map[string]any)
	if trigger["routing_key"] != tomlString(t, oob, "pagerduty_contact") || trigger["dedup_key"] != "Flapjack Self Monitoring from "+hostname ||
		payload == nil || payload["summary"] != m.Body || payload["severity"] != "critical" {
		t.Errorf("PagerDuty trigger %v; want the routing key, the incident key and the alarm", trigger)
	}

	// Nagios starts again: alerts come again and the oobetet says all is well.
	nagios.Restart()
	waitRoom("an alert about "+quoted+" after Nagios restarted", afterCritical, maxLatency, func(m oobetet.Message) bool {
		return alertOf(oobetet.Problem)(m) || alertOf(oobetet.Recovery)(m)
	})
	waitRoom("the oobetet's all clear", afterCritical, maxLatency+slack, isOK)
	resolve, _ := waitPager("resolve", afterTrigger, slack)
	if resolve["routing_key"] != tomlString(t, oob, "pagerduty_contact") || resolve["dedup_key"] != trigger["dedup_key"] {
		t.Errorf("PagerDuty resolve %v; want the routing key and the incident key", resolve)
	}
	for _, ev := range pager.all() {
		if ev["invalid"] != nil {
			t.Errorf("PagerDuty received an invalid request: %v", ev["invalid"])
		}
	}
}

// startFlapjack starts a long-running flapjack command, killed when the test
// ends.
func startFlapjack(t *testing.T, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary, args...)
	d := &daemon{t: t, cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = d.stderr, d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-d.done:
			d.done <- err
		default:
			_ = cmd.Process.Kill()
			d.done <- <-d.done
		}
	})
	return d
}
