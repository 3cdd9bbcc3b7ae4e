package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/jabber"
	"github.com/x/flapjack/internal/prosodytest"
)

const oobetetTOML = `[gateways.oobetet]
enabled = true
jabberid = "oobetet@localhost"
password = "secret"
rooms = ["ops@conference.localhost"]
server = "127.0.0.1"
port = 5222
watched_check = "flapper:Flapper"
max_latency = 60
pagerduty_contact = "routing-key"
pagerduty_events_url = "http://127.0.0.1:1/enqueue"
`

// TestOobetetPlan: [gateways.oobetet] makes a supervised component, not a
// transport with a queue, and is kept over a reload that does not change it.
func TestOobetetPlan(t *testing.T) {
	dir := t.TempDir()
	cfg := parseConfig(t, dir, oobetetTOML)
	s, _ := testServer(t, cfg)
	p, err := s.build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.oobetet == nil {
		t.Fatal("no oobetet planned")
	}
	if _, ok := p.transportQueues()[oobetetName]; ok {
		t.Error("the oobetet has a transport queue")
	}
	again, err := s.build(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if again.oobetet != p.oobetet {
		t.Error("an unchanged oobetet was rebuilt")
	}
	if names, problems := checkGateways(cfg); len(problems) != 0 || !slices.Contains(names, oobetetName) {
		t.Errorf("checkGateways = %q, %v", names, problems)
	}

	off := parseConfig(t, dir, strings.Replace(oobetetTOML, "enabled = true", "enabled = false", 1))
	if p, err := s.build(off, nil); err != nil || p.oobetet != nil {
		t.Errorf("a disabled oobetet: %v, %v", p.oobetet, err)
	}
}

// TestOobetetErrorsNameTheLine: a bad [gateways.oobetet] is an error naming
// the file and line of the table, listing every problem.
func TestOobetetErrorsNameTheLine(t *testing.T) {
	dir := t.TempDir()
	text := "[processor]\nenabled = true\n\n" + strings.NewReplacer(
		"watched_check = \"flapper:Flapper\"\n", "",
		"port = 5222", "port = 70000",
	).Replace(oobetetTOML)
	cfg := parseConfig(t, dir, text)
	s, _ := testServer(t, cfg)
	_, err := s.build(cfg, nil)
	if err == nil {
		t.Fatal("a bad [gateways.oobetet] was accepted")
	}
	msg := err.Error()
	for _, want := range []string{"flapjack.toml:4:", "[gateways.oobetet]", "watched_check", "port"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "secret") || strings.Contains(msg, "routing-key") {
		t.Errorf("error %q shows a credential", msg)
	}
}

// TestOobetetCheckInterval: check_interval in [gateways.oobetet] is checked
// as the daemon and check-config read it; a bad one is an error naming the
// file, the line of the table and the key.
func TestOobetetCheckInterval(t *testing.T) {
	for _, tc := range []struct {
		name, keys string
		want       string // "": accepted
	}{
		{"unset", "", ""},
		{"short", "check_interval = 2\nmax_latency = 20\n", ""},
		{"fraction", "check_interval = 0.5\n", ""},
		{"equal to max_latency", "check_interval = 60\n", ""},
		{"zero", "check_interval = 0\n", "check_interval: 0: want more than 0 seconds"},
		{"negative", "check_interval = -5\n", "check_interval: -5: want more than 0 seconds"},
		{"above max_latency", "check_interval = 61\n", "check_interval: 61: want at most max_latency (60 seconds)"},
		{"above the default max_latency", "check_interval = 400\nmax_latency = 0\n", "check_interval: 400: want at most max_latency (300 seconds)"},
		{"a string", "check_interval = \"10\"\n", "check_interval"},
		{"misspelt", "check_intervall = 10\n", `unknown key "check_intervall"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "[processor]\nenabled = true\n\n" + strings.Replace(oobetetTOML, "max_latency = 60\n", "", 1) +
				"max_latency = 60\n" + tc.keys
			if strings.Contains(tc.keys, "max_latency") {
				text = strings.Replace(text, "max_latency = 60\n", "", 1)
			}
			cfg := parseConfig(t, t.TempDir(), text)
			_, problems := checkGateways(cfg)
			if tc.want == "" {
				if len(problems) != 0 {
					t.Errorf("problems %v; want none", problems)
				}
				return
			}
			if len(problems) != 1 {
				t.Fatalf("problems %v; want one", problems)
			}
			msg := problems[0].Error()
			for _, w := range []string{"flapjack.toml:4: [gateways.oobetet]", tc.want} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestPortNumber(t *testing.T) {
	for _, c := range []struct {
		in   any
		want int
		ok   bool
	}{
		{nil, 0, true}, {float64(5222), 5222, true}, {"5223", 5223, true},
		{float64(-1), 0, false}, {float64(70000), 0, false}, {float64(1.5), 0, false}, {"x", 0, false}, {true, 0, false},
	} {
		got, err := portNumber(c.in)
		if got != c.want || (err == nil) != c.ok {
			t.Errorf("portNumber(%v) = %d, %v", c.in, got, err)
		}
	}
}

// TestOobetetComponent runs the daemon's oobetet component against a real
// Prosody: it joins the room under its alias and greets it, and stops with its
// context.
func TestOobetetComponent(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Config{Users: map[string]string{"oobetet": "oobetet-pass", "alice": "alice-pass"}})
	room := "ops@" + prosodytest.MUCDomain

	alice, err := jabber.NewRoom(jabber.Config{
		JabberID: srv.JID("alice"), Password: "alice-pass", Alias: "alice", Rooms: []string{room},
		Server: "127.0.0.1", Port: srv.Port(), CAFile: srv.CAFile(), Timeout: 5,
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = alice.Run(ctx)
	}()
	select {
	case <-alice.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("alice did not join the room")
	}

	dir := t.TempDir()
	cfg := parseConfig(t, dir, fmt.Sprintf(`[gateways.oobetet]
enabled = true
jabberid = %q
password = "oobetet-pass"
rooms = [%q]
server = "127.0.0.1"
port = %d
ca_file = %q
watched_check = "flapper:Flapper"
`, srv.JID("oobetet"), room, srv.Port(), srv.CAFile()))
	s, _ := testServer(t, cfg)
	p, err := s.build(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	octx, ocancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.oobetet.run(octx) }()
	defer func() {
		ocancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the oobetet component did not stop")
		}
	}()

	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-alice.Messages():
			if m.From == defaultOobetetAlias && strings.HasPrefix(m.Body, "flapjack oobetet gateway started at") {
				return
			}
		case <-deadline:
			t.Fatal("the oobetet did not greet the room")
		}
	}
}
