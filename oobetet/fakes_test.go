package oobetet_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack/oobetet"
)

// start is the fake clock's time at the start of every test.
var start = time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock that moves only when told to.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: start} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// room is a fake Room: an unbuffered channel of messages, and a record of
// what was said.
type room struct {
	msgs chan oobetet.Message

	mu   sync.Mutex
	said []string
	err  error // what Say returns
}

func newRoom() *room { return &room{msgs: make(chan oobetet.Message)} }

func (r *room) Messages() <-chan oobetet.Message { return r.msgs }

func (r *room) Say(_ context.Context, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.said = append(r.said, text)
	return nil
}

// take returns what was said since the last take.
func (r *room) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.said
	r.said = nil
	return s
}

// pd is a fake PagerDuty events endpoint recording the bodies posted to it.
type pd struct {
	srv *httptest.Server

	mu     sync.Mutex
	bodies []string
	header []http.Header
	status int
}

func newPD(t *testing.T) *pd {
	t.Helper()
	p := &pd{status: http.StatusAccepted}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.bodies = append(p.bodies, r.Method+" "+r.URL.Path+" "+string(b))
		p.header = append(p.header, r.Header.Clone())
		status := p.status
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed"})
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pd) pager() *oobetet.PagerDuty {
	return &oobetet.PagerDuty{RoutingKey: "R0UT1NGKEY", EventsURL: p.srv.URL + "/v2/enqueue", Client: p.srv.Client()}
}

func (p *pd) setStatus(s int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = s
}

// take returns the requests ("METHOD /path body") since the last take.
func (p *pd) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.bodies
	p.bodies = nil
	return b
}

// The bodies of the events the oobetet posts, host "mon-01".
const (
	triggerBody = `POST /v2/enqueue {"routing_key":"R0UT1NGKEY","event_action":"trigger",` +
		`"dedup_key":"Flapjack Self Monitoring from mon-01","payload":{"summary":%q,"source":"mon-01","severity":"critical"}}`
	resolveBody = `POST /v2/enqueue {"routing_key":"R0UT1NGKEY","event_action":"resolve",` +
		`"dedup_key":"Flapjack Self Monitoring from mon-01"}`
)
