// Package receiver turns what monitoring systems write into Flapjack events and
// sends them on: Nagios performance data and external-command lines read from a
// named pipe, a stream of concatenated JSON events, and an HTTP broker that
// turns one-off submissions (Flapjack events, New Relic and AWS SNS/CloudWatch
// alarms) into a steady heartbeat.
//
// The pieces compose:
//
//   - ParseNagiosLine and ParseNSCALine turn one line into an event, or say
//     what is wrong with it (an error matching ErrBadLine);
//   - FIFO reads lines from a named pipe for ever, reopening it when its writer
//     goes away; LineReceiver parses, reports and sends each line;
//   - JSONStream splits a stream into its top-level JSON values;
//   - Broker is the HTTP broker's handler, cache and heartbeat;
//   - a Sender delivers events: QueueSender pushes them onto a store queue (the
//     Redis "events" list that Flapjack's processors share), HTTPSender posts
//     them to the daemon's HTTP intake.
//
// The command "flapjack receiver" runs each of them; other programs may embed
// them the same way.
package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api/client"
	"github.com/x/flapjack/store"
)

// Sender delivers one event to Flapjack. The senders of this package validate
// the event first (an event Flapjack would reject is an error matching
// flapjack.ErrInvalidEvent, and nothing is sent) and give an event without a
// time the current one.
type Sender interface {
	Send(ctx context.Context, ev flapjack.Event) error
}

// SenderFunc adapts a function to a Sender.
type SenderFunc func(ctx context.Context, ev flapjack.Event) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, ev flapjack.Event) error { return f(ctx, ev) }

// encode validates ev and returns its wire form. An event without a time gets
// the current one, as Flapjack's producers have always done: the processor
// does not use it, but a Flapjack v2 processor's archive and logs show it.
func encode(ev flapjack.Event, now func() time.Time) ([]byte, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	if ev.Time == 0 {
		ev.Time = now().Unix()
	}
	return json.Marshal(ev)
}

// QueueSender pushes each event, as JSON, onto a store queue: with store/redis,
// an LPUSH onto the Redis list every Flapjack processor sharing that Redis takes
// its events from.
//
// Flapjack v2's producers also push a "+" onto "<queue>_actions" in the same
// transaction, which v2's (Ruby) processors wait on. Flapjack for Go's processors
// do not need that token; store/redis pushes it when its Options.WakeTokens is
// set, in the same MULTI as the event.
type QueueSender struct {
	queue store.Queue
	now   func() time.Time
}

// NewQueueSender returns a Sender pushing onto q.
func NewQueueSender(q store.Queue) *QueueSender {
	return &QueueSender{queue: q, now: time.Now}
}

// Send implements Sender.
func (s *QueueSender) Send(ctx context.Context, ev flapjack.Event) error {
	b, err := encode(ev, s.now)
	if err != nil {
		return err
	}
	return s.queue.Push(ctx, b)
}

// DefaultHTTPTimeout bounds one request of an HTTPSender without a client of
// its own, and the broker's subscription confirmations.
const DefaultHTTPTimeout = 10 * time.Second

// HTTPSender posts each event to the daemon's HTTP intake ("POST /events", see
// package api), which queues it for the processor. It is what producers use
// where the daemon runs without Redis.
//
// It posts through the API's Go client (package api/client).
type HTTPSender struct {
	api   *client.Client
	shown string // the URL posted to, without its password, for errors
	now   func() time.Time
}

// NewHTTPSender returns a Sender posting to the intake at baseURL, such as
// "http://127.0.0.1:3081" ("/events" is appended unless the URL already ends with
// it). client nil means a client whose requests time out after
// DefaultHTTPTimeout.
func NewHTTPSender(baseURL string, hc *http.Client) (*HTTPSender, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("intake URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("intake URL %q: want http://host:port or https://host:port", u.Redacted())
	}
	// The client posts to <base>/events.
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/events")
	base := u.String()
	u.Path += "/events"
	if hc == nil {
		hc = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	return &HTTPSender{api: client.New(base, client.WithHTTPClient(hc)), shown: u.Redacted(), now: time.Now}, nil
}

// URL is where events are posted, without its password.
func (s *HTTPSender) URL() string { return s.shown }

// Send implements Sender. It fails unless the intake queued the event (202): a
// rejection by the intake matches flapjack.ErrInvalidEvent and gives its
// reasons.
func (s *HTTPSender) Send(ctx context.Context, ev flapjack.Event) error {
	if err := ev.Validate(); err != nil {
		return err
	}
	if ev.Time == 0 {
		ev.Time = s.now().Unix()
	}
	reply, err := s.api.SendEvents(ctx, ev)
	if err == nil {
		return nil
	}
	var ce *client.Error
	if !errors.As(err, &ce) {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return fmt.Errorf("POST %s: %w", s.shown, err)
	}
	if reply != nil && len(reply.Rejected) > 0 {
		return fmt.Errorf("POST %s: %w: %s", s.shown, flapjack.ErrInvalidEvent, strings.Join(ce.Details, "; "))
	}
	msg := fmt.Sprintf("%d %s", ce.Status, http.StatusText(ce.Status))
	if len(ce.Details) > 0 {
		msg += ": " + strings.Join(ce.Details, "; ")
	}
	return fmt.Errorf("POST %s: %s", s.shown, msg)
}

var (
	_ Sender = (*QueueSender)(nil)
	_ Sender = (*HTTPSender)(nil)
	_ Sender = SenderFunc(nil)
)
