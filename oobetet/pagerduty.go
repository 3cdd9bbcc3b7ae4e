package oobetet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
	"unicode/utf8"
)

// DefaultEventsURL is PagerDuty's Events API v2 endpoint.
const DefaultEventsURL = "https://events.pagerduty.com/v2/enqueue"

// DefaultPagerTimeout bounds one request to PagerDuty.
const DefaultPagerTimeout = 10 * time.Second

// PagerDuty is a Pager posting to PagerDuty's Events API v2. A trigger is
//
//	{"routing_key":"…","event_action":"trigger","dedup_key":"Flapjack Self Monitoring from <host>",
//	 "payload":{"summary":"Flapjack Self Monitoring is Critical: …","source":"<host>","severity":"critical"}}
//
// and a resolve the same without the payload. Any 2xx answer (PagerDuty
// answers 202) is a success. The routing key is a credential: no error shows
// it, nor any response body, which might echo it.
type PagerDuty struct {
	// RoutingKey is the integration's routing key (v2's pagerduty_contact,
	// a service key). Required.
	RoutingKey string
	// EventsURL is the endpoint. Default DefaultEventsURL.
	EventsURL string
	// Client sends the requests. Default http.DefaultClient.
	Client *http.Client
	// Timeout bounds each request. Default DefaultPagerTimeout.
	Timeout time.Duration
}

// pdEvent is the body of an Events API v2 request.
type pdEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *pdPayload `json:"payload,omitempty"`
}

type pdPayload struct {
	Summary  string `json:"summary"`
	Source   string `json:"source"`
	Severity string `json:"severity"`
}

// maxSummary is the longest summary PagerDuty takes, in characters.
const maxSummary = 1024

// Trigger implements Pager.
func (p *PagerDuty) Trigger(ctx context.Context, in Incident) error {
	source := in.Host
	if source == "" {
		source = "flapjack oobetet" // PagerDuty requires a source
	}
	return p.post(ctx, pdEvent{
		EventAction: "trigger", DedupKey: in.Key,
		Payload: &pdPayload{Summary: truncate(in.Summary, maxSummary), Source: source, Severity: "critical"},
	})
}

// Resolve implements Pager.
func (p *PagerDuty) Resolve(ctx context.Context, in Incident) error {
	return p.post(ctx, pdEvent{EventAction: "resolve", DedupKey: in.Key})
}

func (p *PagerDuty) post(ctx context.Context, ev pdEvent) error {
	if p.RoutingKey == "" {
		return errors.New("pagerduty: no routing key")
	}
	if ev.DedupKey == "" {
		return errors.New("pagerduty: no incident key")
	}
	ev.RoutingKey = p.RoutingKey
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return fmt.Errorf("pagerduty: encode event: %w", err)
	}
	endpoint, client, timeout := p.EventsURL, p.Client, p.Timeout
	if endpoint == "" {
		endpoint = DefaultEventsURL
	}
	if client == nil {
		client = http.DefaultClient
	}
	if timeout <= 0 {
		timeout = DefaultPagerTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(bytes.TrimSuffix(body.Bytes(), []byte("\n"))))
	if err != nil {
		return errors.New("pagerduty: invalid events URL") // the URL may carry credentials
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // a *url.Error quotes the URL
		}
		return fmt.Errorf("pagerduty: %s: %w", ev.EventAction, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("pagerduty: %s: HTTP %d", ev.EventAction, resp.StatusCode)
	}
	return nil
}

// truncate cuts s to at most n characters, the last three "..." when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

var _ Pager = (*PagerDuty)(nil)
