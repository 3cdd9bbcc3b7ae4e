package jabber_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/stanza"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/jabber"
	"github.com/x/flapjack/oobetet"
)

// pdReceiver is a PagerDuty Events API stand-in recording the event actions.
type pdReceiver struct {
	mu      sync.Mutex
	actions []string
}

func (p *pdReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var ev struct {
		EventAction string `json:"event_action"`
	}
	if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.actions = append(p.actions, ev.EventAction)
	p.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"success"}`))
}

func (p *pdReceiver) count(action string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, a := range p.actions {
		if a == action {
			n++
		}
	}
	return n
}

func TestOobetetRoom(t *testing.T) {
	srv := startServer(t)
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")

	pd := &pdReceiver{}
	hs := httptest.NewServer(pd)
	t.Cleanup(hs.Close)

	cfg := config(srv, room)
	cfg.Alias = "oobetet"
	r, err := jabber.NewRoom(cfg, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	const maxLatency, tick = 2 * time.Second, 200 * time.Millisecond
	o, err := oobetet.New(oobetet.Options{
		WatchedCheck: "flapper:Flapper", MaxLatency: maxLatency, Tick: tick, Hostname: "test-host",
		Room:  r,
		Pager: &oobetet.PagerDuty{RoutingKey: "key", EventsURL: hs.URL, Client: hs.Client()},
	})
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
		_ = r.Run(ctx)
	}()
	select {
	case <-r.Ready():
	case <-time.After(waitFor):
		t.Fatal("the room transport did not connect")
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = o.Run(ctx)
	}()

	fromOobetet := room + "/oobetet"
	// await returns the first message from the oobetet starting with prefix
	// within d, failing on a message starting with unwanted.
	await := func(prefix, unwanted string, d time.Duration) string {
		t.Helper()
		deadline := time.After(d)
		for {
			select {
			case m := <-alice.msgs:
				if m.From != fromOobetet {
					continue
				}
				if unwanted != "" && strings.HasPrefix(m.Body, unwanted) {
					t.Fatalf("unexpected %q", m.Body)
				}
				if strings.HasPrefix(m.Body, prefix) {
					return m.Body
				}
			case <-deadline:
				t.Fatalf("no message %q from the oobetet within %s", prefix, d)
				return ""
			}
		}
	}
	await("flapjack oobetet gateway started at", "", waitFor)

	flap := func() {
		alice.say(room, stanza.GroupChatMessage, `Problem: "flapper:Flapper" is Critical`)
		alice.say(room, stanza.GroupChatMessage, `Recovery: "flapper:Flapper" is OK`)
	}
	// Alerts in time for longer than the maximum latency: no alarm.
	quiet := time.Now().Add(maxLatency + 4*tick)
	for time.Now().Before(quiet) {
		flap()
		deadline := time.After(maxLatency / 4)
	drain:
		for {
			select {
			case m := <-alice.msgs:
				if m.From == fromOobetet && strings.HasPrefix(m.Body, "Flapjack Self Monitoring") {
					t.Fatalf("alarm while the alerts came in time: %q", m.Body)
				}
			case <-deadline:
				break drain
			}
		}
	}
	if n := pd.count("trigger"); n != 0 {
		t.Fatalf("%d PagerDuty triggers while the alerts came in time", n)
	}

	// Silence: the alarm within the maximum latency and a tick (and slack).
	body := await("Flapjack Self Monitoring is Critical", "", maxLatency+tick+waitFor)
	if !strings.Contains(body, `"flapper:Flapper"`) || !strings.Contains(body, "test-host") {
		t.Errorf("alarm %q does not name the check and the host", body)
	}
	waitUntil(t, func() bool { return pd.count("trigger") > 0 }, "a PagerDuty trigger")

	// The alerts again: the all clear.
	flap()
	await(oobetet.OKText, "", waitFor)
	waitUntil(t, func() bool { return pd.count("resolve") > 0 }, "a PagerDuty resolve")
}

// waitUntil polls cond until it holds, failing the test after waitFor.
func waitUntil(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, waitFor)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNewRoomNeedsRooms(t *testing.T) {
	_, err := jabber.NewRoom(jabber.Config{JabberID: "a@example.com", Password: "p"}, gateway.Env{})
	if err == nil || !strings.Contains(err.Error(), "rooms: required") {
		t.Fatalf("NewRoom without rooms: %v", err)
	}
}

// TestRoomReconnects: after the server restarts, the room transport connects
// again, joins the room and delivers and says messages as before.
func TestRoomReconnects(t *testing.T) {
	srv := startServer(t)
	cfg := config(srv, room)
	cfg.Alias = "oobetet"
	r, err := jabber.NewRoom(cfg, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-r.Ready():
	case <-time.After(waitFor):
		t.Fatal("the room transport did not connect")
	}
	srv.Restart()
	alice := dialClient(t, srv, "alice", alicePassword)
	alice.join(room, "alice")

	// Say fails until the transport is back in the room; alice hears it then.
	sayCtx, sayCancel := context.WithTimeout(ctx, waitFor)
	defer sayCancel()
	deadline := time.Now().Add(waitFor)
	for heard := false; !heard; {
		if time.Now().After(deadline) {
			t.Fatal("the room transport did not come back")
		}
		if err := r.Say(sayCtx, "back"); err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		select {
		case m := <-alice.msgs:
			heard = m.From == room+"/oobetet" && m.Body == "back"
		case <-time.After(time.Second):
		}
	}
	alice.say(room, stanza.GroupChatMessage, "hello")
	select {
	case m := <-r.Messages():
		if m.From != "alice" || m.Body != "hello" || m.Room != room || m.Self {
			t.Errorf("received %+v", m)
		}
	case <-time.After(waitFor):
		t.Fatal("no message delivered after the reconnection")
	}
}
