// Package pagerduty is the "pagerduty" gateway: it opens, acknowledges and
// resolves PagerDuty incidents through the Events API v2, and its [AckPoller]
// turns acknowledgements made on PagerDuty into Flapjack acknowledgements.
//
//	[gateways.pagerduty]
//	enabled = true
//	events_url = "https://events.pagerduty.com/v2/enqueue"  # the default
//	api_url = "https://api.pagerduty.com"                   # the default, for the poller
//	processor_queue = "events"   # the default: where the poller's ack events go
//	ack_poll_interval = 10       # seconds, the default
//	ack_polling = true           # the default
//	timeout = 10                 # seconds per request, the default
//
//	[gateways.pagerduty.delivery]
//	rate = 2                     # PagerDuty takes about 120 events a minute
//	rate_key = "address"         # per integration key
//
// A medium of transport pagerduty has the integration's routing key as its
// address, and, for the poller, a REST API token (pagerduty_token) and
// optionally the length of the acknowledgements it makes
// (pagerduty_ack_duration, seconds; default 4 hours).
//
// Each alert becomes one POST of a JSON event to the Events API, whose
// dedup_key is the check name, so that all the alerts of one check concern
// one incident. Problems and tests trigger it:
//
//	{"routing_key":"…","event_action":"trigger","dedup_key":"app-01:HTTP",
//	 "payload":{"summary":"Problem: \"app-01:HTTP\" is Critical, HTTP 500","source":"app-01",
//	  "severity":"critical","timestamp":"2016-02-01T12:00:00Z","component":"HTTP",
//	  "custom_details":{"check":"app-01:HTTP","state":"critical","summary":"HTTP 500",
//	   "details":"…","hostname":"app-01","service":"HTTP"}}}
//
// acknowledgements acknowledge it and recoveries resolve it, with only the
// routing key, the action and the dedup key. The summary is the "pagerduty"
// template's text (Flapjack v2's description). The severity follows the
// condition: critical and warning as they are, unknown as error, anything else
// as info. The source is the check name's part before its first ":" (the
// whole name when it has none), the component the part after it.
//
// PagerDuty media never roll up (the set-up data refuses a rollup threshold
// for them): a rollup alert is refused as a permanent failure.
//
// A 2xx response (PagerDuty answers 202) is a delivery. 429 (its Retry-After
// honoured by the delivery layer) and 5xx may be retried; 400 (an invalid
// event) and other 4xx are permanent. The routing key is a credential: no
// error or log line shows it, nor any response body, which might echo it.
package pagerduty

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// Transport is the transport name the gateway registers under.
const Transport = "pagerduty"

// The defaults of Config.
const (
	DefaultEventsURL       = "https://events.pagerduty.com/v2/enqueue"
	DefaultAPIURL          = "https://api.pagerduty.com"
	DefaultProcessorQueue  = "events"
	DefaultAckPollInterval = 10 * time.Second
	DefaultTimeout         = 10 * time.Second
)

// maxSummary is the longest summary PagerDuty takes, in characters.
const maxSummary = 1024

// Config is the gateway's configuration section. The poller's keys are here
// too, so that the one section configures both and is validated at once.
type Config struct {
	// EventsURL is the Events API v2 endpoint. Default:
	// "https://events.pagerduty.com/v2/enqueue".
	EventsURL string `json:"events_url"`
	// APIURL is the base URL of the REST API v2, which the poller asks for
	// acknowledged incidents. Default: "https://api.pagerduty.com".
	APIURL string `json:"api_url"`
	// ProcessorQueue is the events queue the poller pushes acknowledgements
	// onto. Default: "events".
	ProcessorQueue string `json:"processor_queue"`
	// AckPolling turns the poller on or off. Default: true.
	AckPolling *bool `json:"ack_polling"`
	// AckPollInterval is the time between two polls, in seconds. Default: 10.
	AckPollInterval float64 `json:"ack_poll_interval"`
	// Timeout is how long one request may take, in seconds. Default: 10.
	Timeout float64 `json:"timeout"`
	// Credentials is accepted and ignored: Flapjack v2's example configuration
	// carries this table, which nothing read.
	Credentials map[string]any `json:"credentials"`
}

// PollsAcks reports whether c turns the acknowledgement poller on.
func (c Config) PollsAcks() bool { return c.AckPolling == nil || *c.AckPolling }

// DeliveryDefaults are the delivery settings PagerDuty's limits call for: at
// most 2 events a second per routing key (PagerDuty takes about 120 a minute
// per integration). A host decodes a [gateways.pagerduty.delivery] table onto
// a copy of them, so that the keys a person sets win.
func DeliveryDefaults() gateway.DeliveryConfig {
	return gateway.DeliveryConfig{Rate: 2, RateKey: string(gateway.RatePerAddress)}
}

// DeliveryDefaults implements gateway.DeliveryDefaulter.
func (g *Gateway) DeliveryDefaults() gateway.DeliveryConfig { return DeliveryDefaults() }

func init() {
	gateway.Register(Transport, func(cfg gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		var c Config
		if err := cfg.Decode(&c); err != nil {
			return nil, err
		}
		return New(c, env)
	})
}

// settings is a validated Config.
type settings struct {
	events, api       *url.URL
	queue             string
	interval, timeout time.Duration
}

func (c Config) settings() (settings, error) {
	s := settings{queue: c.ProcessorQueue, interval: DefaultAckPollInterval, timeout: DefaultTimeout}
	if s.queue == "" {
		s.queue = DefaultProcessorQueue
	}
	var errs []error
	var err error
	if s.events, err = parseURL("events_url", c.EventsURL, DefaultEventsURL); err != nil {
		errs = append(errs, err)
	}
	if s.api, err = parseURL("api_url", c.APIURL, DefaultAPIURL); err != nil {
		errs = append(errs, err)
	}
	seconds := func(key string, v float64, d *time.Duration) {
		switch {
		case v < 0:
			errs = append(errs, fmt.Errorf("%s: %g seconds is negative", key, v))
		case v > 0:
			*d = time.Duration(v * float64(time.Second))
		}
	}
	seconds("ack_poll_interval", c.AckPollInterval, &s.interval)
	seconds("timeout", c.Timeout, &s.timeout)
	return s, errors.Join(errs...)
}

// parseURL parses the URL set for key, or def when none is. Its errors do not
// quote the URL, which may carry credentials.
func parseURL(key, raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return nil, fmt.Errorf("%s: not a valid URL", key)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, fmt.Errorf("%s: want an https URL", key)
	case u.Host == "":
		return nil, fmt.Errorf("%s: URL has no host", key)
	}
	return u, nil
}

// AckPollerOptions returns the poller options c sets, or an error listing
// every problem of c. The host sets the rest (clock, HTTP client, logger,
// router).
func (c Config) AckPollerOptions() (AckPollerOptions, error) {
	s, err := c.settings()
	if err != nil {
		return AckPollerOptions{}, err
	}
	return AckPollerOptions{APIURL: s.api.String(), Queue: s.queue, Interval: s.interval, Timeout: s.timeout}, nil
}

// Gateway sends alerts to the PagerDuty Events API v2.
type Gateway struct {
	endpoint  *url.URL
	timeout   time.Duration
	client    *http.Client
	templates *gateway.Templates
}

// New returns a pagerduty gateway, or an error listing every problem of cfg
// (the poller's keys included).
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	return &Gateway{endpoint: s.events, timeout: s.timeout, client: env.HTTPClient, templates: env.Templates}, nil
}

// The event actions of the Events API v2.
const (
	actionTrigger     = "trigger"
	actionAcknowledge = "acknowledge"
	actionResolve     = "resolve"
)

// event is the JSON body of an Events API v2 request.
type event struct {
	RoutingKey  string   `json:"routing_key"`
	EventAction string   `json:"event_action"`
	DedupKey    string   `json:"dedup_key"`
	Payload     *payload `json:"payload,omitempty"`
}

type payload struct {
	Summary       string  `json:"summary"`
	Source        string  `json:"source"`
	Severity      string  `json:"severity"`
	Timestamp     string  `json:"timestamp,omitempty"`
	Component     string  `json:"component,omitempty"`
	CustomDetails details `json:"custom_details"`
}

type details struct {
	Check    string `json:"check"`
	State    string `json:"state"`
	Summary  string `json:"summary,omitempty"`
	Details  string `json:"details,omitempty"`
	Hostname string `json:"hostname"`
	Service  string `json:"service,omitempty"`
}

// Severity is the PagerDuty severity of an alert in condition c.
func Severity(c flapjack.Condition) string {
	switch c {
	case flapjack.Critical:
		return "critical"
	case flapjack.Warning:
		return "warning"
	case flapjack.Unknown:
		return "error"
	}
	return "info"
}

// Send posts a's event. A rollup alert, an alert without a routing key, and a
// template that cannot render a are permanent failures, as is a 4xx response
// other than 408 and 429.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("pagerduty: %w", err)
	}
	ev, err := g.event(a)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("pagerduty: %w", err))
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return gateway.Permanent(fmt.Errorf("pagerduty: encode event: %w", err))
	}
	req := gateway.HTTPRequest{
		Method: http.MethodPost, URL: g.endpoint, Body: bytes.TrimSuffix(body.Bytes(), []byte("\n")), Timeout: g.timeout,
		Header: http.Header{"Content-Type": {"application/json"}},
	}
	if _, err := req.Do(ctx, g.client); err != nil {
		// PagerDuty's error body may quote the event, routing key included.
		return fmt.Errorf("pagerduty: %w", err)
	}
	return nil
}

func (g *Gateway) event(a *flapjack.Alert) (*event, error) {
	if a.Rollup != flapjack.NoRollup {
		return nil, errors.New("rollup alerts are not supported: pagerduty media never roll up")
	}
	if a.Address == "" {
		return nil, errors.New("the medium has no routing key (address)")
	}
	ev := &event{RoutingKey: a.Address, DedupKey: a.CheckName}
	switch a.Type {
	case flapjack.TypeAcknowledgement:
		ev.EventAction = actionAcknowledge
		return ev, nil
	case flapjack.TypeRecovery:
		ev.EventAction = actionResolve
		return ev, nil
	case flapjack.TypeProblem, flapjack.TypeTest:
		ev.EventAction = actionTrigger
	default:
		return nil, fmt.Errorf("unknown alert type %q", a.Type)
	}
	text, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return nil, err
	}
	host, service, _ := strings.Cut(a.CheckName, ":")
	source := host
	if source == "" {
		source = a.CheckName // PagerDuty requires a source
	}
	ev.Payload = &payload{
		Summary: truncate(text, maxSummary), Source: source, Severity: Severity(a.Condition), Component: service,
		CustomDetails: details{
			Check: a.CheckName, State: a.State(), Summary: a.Summary, Details: a.Details,
			Hostname: host, Service: service,
		},
	}
	if !a.Time.IsZero() {
		ev.Payload.Timestamp = a.Time.UTC().Format(time.RFC3339)
	}
	return ev, nil
}

// truncate cuts s to at most n characters, the last three "..." when cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}

var _ gateway.Gateway = (*Gateway)(nil)
