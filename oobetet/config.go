package oobetet

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"time"
)

// Config is the [gateways.oobetet] section of Flapjack v2's configuration,
// decoded by its json tags (as gateway.MapConfig does):
//
//	[gateways.oobetet]
//	jabberid = "flapjacktest@jabber.example.org"  # "/<hostname>" is appended
//	password = "…"
//	alias = "oobetet"                  # the nickname in the rooms
//	rooms = ["flapjacktest@conference.jabber.example.org"]
//	watched_check = "flapper.example.org:Flapper"   # required
//	max_latency = 300                  # seconds, the default
//	check_interval = 10                # seconds between two checks, the default
//	pagerduty_contact = "…"            # a PagerDuty routing (service) key; optional
//	pagerduty_events_url = "https://events.pagerduty.com/v2/enqueue"  # the default
//
// The chat keys (jabberid, password, alias, rooms) are for the host's room
// transport: the oobetet itself reads only watched_check, max_latency,
// check_interval and the PagerDuty keys. check_interval, which Flapjack v2
// did not have (it checked every 10 seconds), must be more than 0 and at most
// max_latency. watched_entity (Flapjack v1's) is accepted and ignored, as
// Flapjack v2 did; server and port, which v2 ignored, are the room
// transport's, to dial a host other than the JID's domain.
type Config struct {
	JabberID           string   `json:"jabberid"`
	Password           string   `json:"password"`
	Alias              string   `json:"alias"`
	Rooms              []string `json:"rooms"`
	WatchedCheck       string   `json:"watched_check"`
	WatchedEntity      string   `json:"watched_entity"`
	MaxLatency         float64  `json:"max_latency"`
	CheckInterval      *float64 `json:"check_interval"`
	PagerDutyContact   string   `json:"pagerduty_contact"`
	PagerDutyEventsURL string   `json:"pagerduty_events_url"`
	Server             string   `json:"server"`
	Port               any      `json:"port"`
}

// Options returns the options c sets (WatchedCheck, MaxLatency, Tick and,
// when pagerduty_contact is set, a PagerDuty Pager using client), or an error
// listing every problem of c. The host sets the rest: Room, Hostname, Clock,
// Logger.
func (c Config) Options(client *http.Client) (Options, error) {
	var errs []error
	opts := Options{WatchedCheck: c.WatchedCheck}
	if c.WatchedCheck == "" {
		errs = append(errs, errors.New("watched_check is required"))
	}
	maxLatencyOK := true
	switch {
	case c.MaxLatency < 0 || !seconds(c.MaxLatency):
		errs = append(errs, fmt.Errorf("max_latency: %g is not a number of seconds", c.MaxLatency))
		maxLatencyOK = false
	default:
		opts.MaxLatency = time.Duration(c.MaxLatency * float64(time.Second))
	}
	if c.CheckInterval != nil {
		v := *c.CheckInterval
		var tick time.Duration
		if seconds(v) {
			tick = time.Duration(v * float64(time.Second))
		}
		maxLatency := cmp.Or(opts.MaxLatency, DefaultMaxLatency)
		switch {
		case !seconds(v):
			errs = append(errs, fmt.Errorf("check_interval: %g is not a number of seconds", v))
		case tick <= 0:
			errs = append(errs, fmt.Errorf("check_interval: %g: want more than 0 seconds", v))
		case maxLatencyOK && tick > maxLatency:
			errs = append(errs, fmt.Errorf("check_interval: %g: want at most max_latency (%g seconds)", v, maxLatency.Seconds()))
		default:
			opts.Tick = tick
		}
	}
	if c.PagerDutyEventsURL != "" {
		u, err := url.Parse(c.PagerDutyEventsURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			// The URL is not quoted: it may carry credentials.
			errs = append(errs, errors.New("pagerduty_events_url: want an https URL"))
		}
	}
	if c.PagerDutyContact != "" {
		opts.Pager = &PagerDuty{RoutingKey: c.PagerDutyContact, EventsURL: c.PagerDutyEventsURL, Client: client}
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("oobetet: %w", err)
	}
	return opts, nil
}

// seconds reports whether v is a number of seconds a time.Duration holds.
func seconds(v float64) bool {
	return !math.IsNaN(v) && math.Abs(v) <= math.MaxInt64/float64(time.Second)
}
