package jabber_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/jabber"
	"github.com/x/flapjack/internal/prosodytest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

const (
	botPassword   = "S3cret-bot-pass"
	alicePassword = "alice-pass"
	bobPassword   = "bob-pass"
	room          = "ops@" + prosodytest.MUCDomain
)

func startServer(t testing.TB) *prosodytest.Server {
	t.Helper()
	return prosodytest.Start(t, prosodytest.Config{Users: map[string]string{
		"flapjack": botPassword, "alice": alicePassword, "bob": bobPassword,
	}})
}

// config is the gateway's configuration for srv, in rooms.
func config(srv *prosodytest.Server, rooms ...string) jabber.Config {
	return jabber.Config{
		JabberID: srv.JID("flapjack"), Password: botPassword, Rooms: rooms,
		Server: "127.0.0.1", Port: srv.Port(), CAFile: srv.CAFile(), Timeout: 5,
	}
}

func newGateway(t testing.TB, cfg jabber.Config, env gateway.Env) *jabber.Gateway {
	t.Helper()
	g, err := jabber.New(cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	return g
}

func start(t testing.TB, g *jabber.Gateway) {
	t.Helper()
	// The connection lasts as long as Start's context, as under a Delivery.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := g.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	_, err := jabber.New(jabber.Config{
		JabberID: "not a jid@@", Rooms: []string{"ops@conference.example.com/nick", "@@"},
		Port: 70000, Timeout: -1, CAFile: "/nonexistent/ca.pem",
	}, gateway.Env{})
	if err == nil {
		t.Fatal("New accepted an invalid configuration")
	}
	for _, want := range []string{"jabberid:", "password: required", "rooms[0]:", "rooms[1]:", "port:", "timeout:", "ca_file:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
	if _, err := jabber.New(jabber.Config{}, gateway.Env{}); err == nil || !strings.Contains(err.Error(), "jabberid: required") {
		t.Errorf("New of an empty config: %v", err)
	}
}

func TestResourceAppended(t *testing.T) {
	g, err := jabber.New(jabber.Config{JabberID: "bot@example.com", Password: "x"}, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if j := g.JID(); !strings.HasPrefix(j, "bot@example.com/") || len(j) == len("bot@example.com/") {
		t.Errorf("JID = %q, want a /<hostname> resource", j)
	}
	g, err = jabber.New(jabber.Config{JabberID: "bot@example.com/here", Password: "x", Identifiers: []string{"fj"}}, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if j := g.JID(); j != "bot@example.com/here" {
		t.Errorf("JID = %q, want the configured resource kept", j)
	}
	if ids := g.Identifiers(); strings.Join(ids, ",") != "flapjack,fj" {
		t.Errorf("Identifiers = %q, want the alias first", ids)
	}
}

func TestRegistered(t *testing.T) {
	_, err := gateway.New(jabber.Transport, gateway.MapConfig{"jabberid": "bot@example.com", "password": "x", "rooms": []string{room}}, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = gateway.New(jabber.Transport, gateway.MapConfig{"jabberid": "bot@example.com", "password": "x", "unknown": 1}, gateway.Env{})
	if err == nil {
		t.Error("an unknown key was accepted")
	}
}

func TestSendNotStarted(t *testing.T) {
	g := newGateway(t, jabber.Config{JabberID: "bot@example.com", Password: "x"}, gateway.Env{})
	err := g.Send(context.Background(), gatewaytest.NewAlert("problem", jabber.Transport, "ada@example.com"))
	if !errors.Is(err, gateway.ErrNotConnected) || gateway.IsPermanent(err) {
		t.Errorf("Send before Start = %v, want a retryable ErrNotConnected", err)
	}
	err = g.Send(context.Background(), gatewaytest.NewAlert("problem", jabber.Transport, "@@bad"))
	if !gateway.IsPermanent(err) {
		t.Errorf("Send to an invalid JID = %v, want a permanent error", err)
	}
}

// The exact texts of the jabber templates for gatewaytest's alerts.
const (
	problemText  = `Problem: flapjack: ACKID a1b2c3d4, "app-01:HTTP" is Critical, HTTP 500`
	recoveryText = `Recovery: "app-01:HTTP" is OK, HTTP 200`
)

func TestRoomAndDirect(t *testing.T) {
	srv := startServer(t)
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")
	bob := dialClient(t, srv, "bob", bobPassword)
	g := newGateway(t, config(srv, room), gateway.Env{})
	start(t, g)

	ctx := context.Background()
	if err := g.Send(ctx, gatewaytest.NewAlert("problem", jabber.Transport, room)); err != nil {
		t.Fatalf("Send to the room: %v", err)
	}
	m := alice.next()
	if m.Body != problemText || m.Type != stanza.GroupChatMessage || m.From != room+"/flapjack" {
		t.Errorf("in the room: %+v, want a groupchat from %s/flapjack: %q", m, room, problemText)
	}
	if err := g.Send(ctx, gatewaytest.NewAlert("recovery", jabber.Transport, srv.JID("bob"))); err != nil {
		t.Fatalf("Send to a person: %v", err)
	}
	m = bob.next()
	if m.Body != recoveryText || m.Type != stanza.ChatMessage || !strings.HasPrefix(m.From, srv.JID("flapjack")+"/") {
		t.Errorf("direct: %+v, want a chat from flapjack: %q", m, recoveryText)
	}
	alice.none(200 * time.Millisecond)
}

func TestAnnounce(t *testing.T) {
	srv := startServer(t)
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")
	cfg := config(srv, room)
	cfg.ChatbotAnnounce = true
	clock := flapjack.ClockFunc(func() time.Time { return time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC) })
	g := newGateway(t, cfg, gateway.Env{Clock: clock})
	start(t, g)
	if m, want := alice.next(), "flapjack jabber gateway started at Mon, 01 Feb 2016 12:00:00 +0000, hello! Try typing 'help'."; m.Body != want {
		t.Errorf("greeting %q, want %q", m.Body, want)
	}
	_ = g.Close()
	start(t, g) // a reconnection, as when a Delivery runs again
	if m, want := alice.next(), "flapjack jabber gateway rejoining at Mon, 01 Feb 2016 12:00:00 +0000, hello again!"; m.Body != want {
		t.Errorf("greeting %q, want %q", m.Body, want)
	}
}

func TestReceivedMessages(t *testing.T) {
	srv := startServer(t)
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")
	g := newGateway(t, config(srv, room), gateway.Env{})
	got := make(chan jabber.Message, 10)
	g.HandleMessages(func(m jabber.Message) { got <- m })
	start(t, g)

	// The gateway's own message, echoed by the room, is not handed on.
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", jabber.Transport, room)); err != nil {
		t.Fatal(err)
	}
	alice.next()
	alice.say(room, stanza.GroupChatMessage, "flapjack: help")
	alice.say(srv.JID("flapjack"), stanza.ChatMessage, "identify")
	want := []jabber.Message{
		{From: room + "/alice", Room: room, Body: "flapjack: help"},
		{From: srv.JID("alice") + "/", Body: "identify"},
	}
	for _, w := range want {
		select {
		case m := <-got:
			from := m.From
			if strings.HasSuffix(w.From, "/") {
				from = from[:strings.Index(from, "/")+1] // the resource the server chose
			}
			if from != w.From || m.Room != w.Room || m.Body != w.Body {
				t.Errorf("received %+v, want %+v", m, w)
			}
		case <-time.After(waitFor):
			t.Fatalf("%+v not received", w)
		}
	}
	select {
	case m := <-got:
		t.Errorf("unexpected %+v", m)
	case <-time.After(200 * time.Millisecond):
	}
}

func TestBadPasswordIsPermanent(t *testing.T) {
	srv := startServer(t)
	cfg := config(srv)
	cfg.Password = "Wr0ng-pass-word"
	g := newGateway(t, cfg, gateway.Env{})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	err := g.Start(ctx)
	if err == nil || !gateway.IsPermanent(err) {
		t.Fatalf("Start with a wrong password = %v, want a permanent error", err)
	}
	gatewaytest.AssertNoSecrets(t, []string{cfg.Password}, err.Error())
}

// TestSurvivesRestart runs the gateway under a Delivery while the server
// restarts: alerts queued while it was down arrive once it is back, and the
// rooms are joined again.
func TestSurvivesRestart(t *testing.T) {
	srv := startServer(t)
	logs := gatewaytest.NewLogs()
	g := newGateway(t, config(srv, room), gateway.Env{Logger: logs.Logger()})
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	const queue = "jabber_notifications"
	d := gateway.NewDelivery(st, jabber.Transport, queue, g, gateway.DeliveryOptions{
		MaxAttempts: 1000, Backoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, Logger: logs.Logger(),
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(waitFor):
			t.Error("Run did not return")
		}
		gatewaytest.AssertNoSecrets(t, []string{botPassword}, logs.Lines()...)
	}()
	push := func(kind, address string) {
		t.Helper()
		payload, err := gatewaytest.NewAlert(kind, jabber.Transport, address).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Queue(queue).Push(ctx, payload); err != nil {
			t.Fatal(err)
		}
	}

	bob := dialClient(t, srv, "bob", bobPassword)
	push("problem", srv.JID("bob"))
	if m := bob.next(); m.Body != problemText {
		t.Fatalf("before the restart: %q, want %q", m.Body, problemText)
	}

	srv.Stop()
	bob.close()
	// Without stream management a message written before the gateway saw
	// the connection close could be lost: queue the next alert once it has.
	deadline := time.Now().Add(waitFor)
	for !slices.ContainsFunc(logs.Lines(), func(l string) bool { return strings.Contains(l, "jabber connection lost") }) {
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not notice the server stopping; logs:\n%s", strings.Join(logs.Lines(), "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	push("recovery", srv.JID("bob"))
	srv.Restart()

	// Bob gets the alert queued while the server was down, directly or from
	// the server's offline storage.
	bob = dialClient(t, srv, "bob", bobPassword)
	if m := bob.next(); m.Body != recoveryText {
		t.Fatalf("after the restart: %q, want %q", m.Body, recoveryText)
	}
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")
	push("problem", room)
	if m := alice.next(); m.Body != problemText || m.Type != stanza.GroupChatMessage {
		t.Errorf("in the room after the restart: %+v", m)
	}
	if s := d.Metrics().Snapshot(); s.DeadLettered != 0 {
		t.Errorf("%d alerts dead-lettered", s.DeadLettered)
	}
}

// counting counts the successful Sends of a gateway, so that the conformance
// harness can wait for as many messages to arrive: XMPP delivery is
// asynchronous.
type counting struct {
	*jabber.Gateway
	mu   chan struct{}
	sent int
}

func (c *counting) Send(ctx context.Context, a *flapjack.Alert) error {
	err := c.Gateway.Send(ctx, a)
	if err == nil {
		c.mu <- struct{}{}
		c.sent++
		<-c.mu
	}
	return err
}

func (c *counting) count() int {
	c.mu <- struct{}{}
	defer func() { <-c.mu }()
	return c.sent
}

func TestConformance(t *testing.T) {
	srv := startServer(t)
	n := 0
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: jabber.Transport,
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			n++
			r := "conformance" + string(rune('a'+n%26)) + strings.Repeat("x", n/26) + "@" + prosodytest.MUCDomain
			alice := dialClient(t, srv, "alice", alicePassword)
			alice.join(r, "alice")
			var box inbox
			stop := make(chan struct{})
			collected := make(chan struct{})
			go func() {
				defer close(collected)
				for {
					select {
					case m := <-alice.msgs:
						box.add(m.Body)
					case <-stop:
						return
					}
				}
			}()
			t.Cleanup(func() { close(stop); <-collected })
			g := newGateway(t, config(srv, r), env)
			start(t, g)
			c := &counting{Gateway: g, mu: make(chan struct{}, 1)}
			return gatewaytest.Target{
				Gateway: c, Address: r, Secrets: []string{botPassword},
				Delivered: func() []string {
					deadline := time.Now().Add(waitFor)
					for box.len() < c.count() && time.Now().Before(deadline) {
						time.Sleep(5 * time.Millisecond)
					}
					time.Sleep(50 * time.Millisecond) // catch a duplicate
					return box.all()
				},
			}
		},
	})
}

func TestChatBot(t *testing.T) {
	srv := startServer(t)
	s := memory.New()
	ctx := context.Background()
	c, err := s.UpdateCheck(ctx, "example.com:ping", true, func(u *store.CheckUpdate) error {
		u.Check.Enabled, u.Check.Condition, u.Check.Failing = true, flapjack.Critical, true
		u.Check.Tags = []string{"example.com"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")
	cfg := config(srv, room)
	cfg.Identifiers = []string{"fj"}
	g := newGateway(t, cfg, gateway.Env{})
	g.ServeChat(s, s)
	start(t, g)

	alice.say(room, stanza.GroupChatMessage, "flapjack: find checks matching /example/")
	for m := alice.next(); ; m = alice.next() {
		if m.From == room+"/alice" {
			continue // alice's own message, echoed
		}
		if want := "Checks matching /example/:\nexample.com:ping is CRITICAL"; m.Body != want || m.Type != stanza.GroupChatMessage {
			t.Errorf("reply %+v, want a groupchat %q", m, want)
		}
		break
	}

	// Not addressed to the bot: no reply.
	alice.say(room, stanza.GroupChatMessage, "hello everyone")
	alice.say(room, stanza.GroupChatMessage, "@fj ACKID "+c.AckHash+" JJ looking duration: 1 hour")
	for m := alice.next(); ; m = alice.next() {
		if m.From == room+"/alice" {
			continue
		}
		if want := "ACKing example.com:ping (" + c.AckHash + ")"; m.Body != want {
			t.Errorf("reply %+v, want %q", m, want)
		}
		break
	}
	q := s.Queue(jabber.DefaultProcessorQueue)
	var items []store.Item
	for deadline := time.Now().Add(waitFor); len(items) == 0 && time.Now().Before(deadline); {
		if items, err = q.Reserve(ctx, 10, false); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(items) != 1 {
		t.Fatalf("queued %d events, want 1", len(items))
	}
	e, err := flapjack.ParseEvent(items[0].Payload)
	if err != nil || e.State != "acknowledgement" || e.Summary != "JJ looking" || e.AcknowledgementID != c.AckHash || *e.Duration != 3600 {
		t.Errorf("queued %s (%v)", items[0].Payload, err)
	}

	// A direct message is a command as it is; the reply goes to the sender.
	alice.say(srv.JID("flapjack"), stanza.ChatMessage, "hello!")
	m := alice.next()
	if want := "what do you mean, 'hello!'? Type 'help' for a list of acceptable commands."; m.Body != want || m.Type != stanza.ChatMessage {
		t.Errorf("direct reply %+v, want a chat %q", m, want)
	}
}
