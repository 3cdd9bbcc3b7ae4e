package pagerduty

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/store"
)

// LeaseName is the lease an [AckPoller] holds while it polls, so that among
// many processes sharing a store one polls at a time.
const LeaseName = "pagerduty_ack_poller"

// The poller's fixed windows and defaults.
const (
	// DefaultLeaseTTL bounds how long a poller that died while polling keeps
	// the others from polling.
	DefaultLeaseTTL = time.Hour
	// DefaultAckDuration is the length of an acknowledgement made from
	// PagerDuty when the medium sets no pagerduty_ack_duration.
	DefaultAckDuration = 4 * time.Hour
	// DefaultMaxPages bounds the pages of incidents read per medium and poll:
	// PagerDuty's offset pagination stops at 10,000 records anyway.
	DefaultMaxPages = 100
	// FirstLookback is how far back the first poll after start looks for
	// incidents, and Lookback how far back the later ones look; every poll
	// looks LookAhead into the future, in case PagerDuty's clock is ahead.
	FirstLookback = 7 * 24 * time.Hour
	Lookback      = 15 * time.Minute
	LookAhead     = time.Hour
	// pageSize is how many incidents one request asks for, PagerDuty's most.
	pageSize = 100
	// maxPageBytes bounds the reading of one page of incidents.
	maxPageBytes = 16 << 20
	// releaseTimeout bounds the release of the lease after a poll, which goes
	// on when the poll's context has ended, so that a stopping process does
	// not keep the others from polling for a whole ttl.
	releaseTimeout = 5 * time.Second
)

// AckStore is what an [AckPoller] needs of a store: the failing checks, the
// routing data, the events queue and a lease. store/memory and store/redis
// provide it.
type AckStore interface {
	store.Leaser
	store.Queues
	QueryChecks(ctx context.Context, q store.CheckQuery) ([]flapjack.Check, error)
	Routing(ctx context.Context) (*store.Routing, error)
}

// AckPollerOptions tune an [AckPoller]. The zero value is usable; a zero field
// takes the default its comment gives.
type AckPollerOptions struct {
	// APIURL is the base URL of PagerDuty's REST API v2. Default:
	// "https://api.pagerduty.com".
	APIURL string
	// Queue is the events queue acknowledgements are pushed onto. Default:
	// "events".
	Queue string
	// Interval is the time between the starts of two polls. Default: 10 s.
	Interval time.Duration
	// Timeout bounds each request. Default: 10 s.
	Timeout time.Duration
	// LeaseTTL is the ttl of the lease taken for each poll. Default: 1 h.
	LeaseTTL time.Duration
	// MaxPages bounds the pages of incidents read per medium and poll.
	// Default: 100.
	MaxPages int
	// Owner names this poller to the lease. Default: the host name, the
	// process id and a random part.
	Owner string
	// Router decides which media a check is routed to. Default: a router
	// whose contacts without a time zone are in UTC.
	Router *notifier.Router
	// Clock is the only source of time. Default: flapjack.SystemClock.
	Clock flapjack.Clock
	// HTTPClient sends the requests. Default: http.DefaultClient.
	HTTPClient *http.Client
	// Logger receives a line for each acknowledgement found and each failure,
	// never a token. Default: discards them.
	Logger *slog.Logger
}

// AckPoller finds the acknowledgements people made on PagerDuty, as Flapjack
// v2's pagerduty gateway did, and turns each into an acknowledgement event for
// the processor: the check then goes into unscheduled maintenance, and its
// contacts hear that it was acknowledged.
//
// Each poll, under the lease [LeaseName]:
//
//   - takes the candidates: enabled, failing checks in no scheduled or
//     unscheduled maintenance (an acknowledged check is in unscheduled
//     maintenance, so it is not asked about again);
//   - assigns each to the first pagerduty medium, by id, that has a
//     pagerduty_token and whose rules route the check to it (tags and time
//     restrictions; conditions ignored);
//   - for each such medium asks the REST API for the incidents acknowledged
//     between now − 7 days (the first time this poller asks about the medium;
//     afterwards now − 15 min) and now + 1 h, page after page;
//   - pushes, for each of the medium's candidates named by the incident_key
//     of such an incident, one event
//     {"state":"acknowledgement","check":"<name>","summary":"Acknowledged on PagerDuty by <name>","duration":<seconds>}
//     whose duration is the medium's pagerduty_ack_duration, or 4 hours.
//
// No candidate, no request; an incident about any other check is ignored.
type AckPoller struct {
	store   AckStore
	opts    AckPollerOptions
	api     *url.URL
	log     *slog.Logger
	running atomic.Bool

	// mu serialises polls; it guards what they remember.
	mu sync.Mutex
	// polled holds the media this poller has read the incidents of: later
	// polls of them look back Lookback only.
	polled map[string]bool
	// warned holds the media already reported as unable to poll.
	warned map[string]bool
}

// NewAckPoller returns a poller of PagerDuty for the checks of s. It fails on
// an unusable APIURL.
func NewAckPoller(s AckStore, opts AckPollerOptions) (*AckPoller, error) {
	if s == nil {
		return nil, errors.New("pagerduty ack poller: nil store")
	}
	api, err := parseURL("api_url", opts.APIURL, DefaultAPIURL)
	if err != nil {
		return nil, fmt.Errorf("pagerduty ack poller: %w", err)
	}
	if opts.Queue == "" {
		opts.Queue = DefaultProcessorQueue
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultAckPollInterval
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = DefaultLeaseTTL
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.Owner == "" {
		host, _ := os.Hostname()
		opts.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8])
	}
	if opts.Router == nil {
		opts.Router = &notifier.Router{DefaultTimezone: time.UTC}
	}
	if opts.Clock == nil {
		opts.Clock = flapjack.SystemClock{}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &AckPoller{store: s, opts: opts, api: api, log: opts.Logger, polled: map[string]bool{}, warned: map[string]bool{}}, nil
}

// ErrRunning is returned by Run when the same poller is already running.
var ErrRunning = errors.New("pagerduty ack poller already running")

// Run polls at once and then every Interval until ctx ends, and returns nil
// then. A failed poll is logged and the next one tried as usual.
func (p *AckPoller) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer p.running.Store(false)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := time.Now()
		res, err := p.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			p.log.Warn("pagerduty ack poll failed", "error", err)
		case !res.Leased:
			p.log.Debug("pagerduty ack poll skipped: another process holds the lease", "lease", LeaseName)
		default:
			p.log.Debug("pagerduty ack poll done", "candidates", res.Candidates, "media", res.Media,
				"requests", res.Requests, "acknowledged", len(res.Acknowledged))
		}
		t.Reset(max(p.opts.Interval-time.Since(start), 0))
	}
}

// PollResult says what one poll did.
type PollResult struct {
	// Leased is false when another poller held the lease: nothing was done.
	Leased bool
	// Candidates is the number of failing checks in no maintenance.
	Candidates int
	// Media is the number of media asked about their incidents.
	Media int
	// Requests is the number of requests made to PagerDuty.
	Requests int
	// Acknowledged are the checks an acknowledgement was pushed for, sorted.
	Acknowledged []string
}

// Poll polls once, if it gets the lease, and releases the lease afterwards. A
// medium whose requests fail is logged and skipped, the others polled; the
// error returned is the store's, or ctx's.
func (p *AckPoller) Poll(ctx context.Context) (PollResult, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var res PollResult
	ok, err := p.store.AcquireLease(ctx, LeaseName, p.opts.Owner, p.opts.LeaseTTL)
	if err != nil {
		return res, fmt.Errorf("pagerduty ack poller: acquire lease: %w", err)
	}
	if !ok {
		return res, nil
	}
	res.Leased = true
	defer func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
		defer cancel()
		if err := p.store.ReleaseLease(rctx, LeaseName, p.opts.Owner); err != nil {
			p.log.Warn("pagerduty ack poller: cannot release its lease; it lapses by itself", "lease", LeaseName, "error", err)
		}
	}()

	now := p.opts.Clock.Now()
	checks, err := p.store.QueryChecks(ctx, store.CheckQuery{Failing: true})
	if err != nil {
		return res, fmt.Errorf("pagerduty ack poller: failing checks: %w", err)
	}
	checks = slices.DeleteFunc(checks, func(c flapjack.Check) bool {
		_, scheduled := c.InScheduledMaintenance(now)
		_, unscheduled := c.InUnscheduledMaintenance(now)
		return !c.Enabled || !c.Failing || scheduled || unscheduled
	})
	res.Candidates = len(checks)
	if len(checks) == 0 {
		return res, nil
	}
	rt, err := p.store.Routing(ctx)
	if err != nil {
		return res, fmt.Errorf("pagerduty ack poller: routing: %w", err)
	}
	groups := p.group(rt, checks, now)
	res.Media = len(groups)

	var events [][]byte
	polled := map[string]bool{}
	for _, g := range groups {
		lookback := Lookback
		if !p.polled[g.medium.ID] {
			lookback = FirstLookback
		}
		acked, n, err := p.acknowledged(ctx, g.medium, now.Add(-lookback), now.Add(LookAhead))
		res.Requests += n
		if err != nil {
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			p.log.Warn("pagerduty ack poller: cannot list the medium's incidents", "medium", g.medium.ID, "error", err)
			continue
		}
		polled[g.medium.ID] = true
		duration := DefaultAckDuration
		if d := g.medium.PagerdutyAckDuration; d > 0 {
			duration = time.Duration(d) * time.Second
		}
		for _, name := range g.checks {
			by, ok := acked[name]
			if !ok {
				continue
			}
			b, err := ackEvent(name, by, duration).MarshalJSON()
			if err != nil {
				return res, fmt.Errorf("pagerduty ack poller: encode event: %w", err)
			}
			events = append(events, b)
			res.Acknowledged = append(res.Acknowledged, name)
			p.log.Info("acknowledged on PagerDuty", "check", name, "medium", g.medium.ID, "by", by)
		}
	}
	if len(events) > 0 {
		if err := p.store.Queue(p.opts.Queue).Push(ctx, events...); err != nil {
			res.Acknowledged = nil
			return res, fmt.Errorf("pagerduty ack poller: push acknowledgements: %w", err)
		}
	}
	slices.Sort(res.Acknowledged)
	for id := range polled {
		p.polled[id] = true
	}
	return res, nil
}

// ackEvent is the acknowledgement of check made on PagerDuty by by ("" when
// PagerDuty did not say).
func ackEvent(check, by string, d time.Duration) flapjack.Event {
	summary := "Acknowledged on PagerDuty"
	if by != "" {
		summary += " by " + by
	}
	secs := int64(d / time.Second)
	return flapjack.Event{Check: check, State: string(flapjack.Acknowledgement), Summary: summary, Duration: &secs}
}

// mediumChecks are the candidates polled through one medium.
type mediumChecks struct {
	medium *flapjack.Medium
	checks []string // sorted
}

// group assigns each check to the first medium, by id, that can poll and that
// routes it, and returns the media with checks, by id.
func (p *AckPoller) group(rt *store.Routing, checks []flapjack.Check, now time.Time) []mediumChecks {
	var media []*flapjack.Medium
	for _, m := range rt.Media {
		if m.Transport != Transport {
			continue
		}
		if m.PagerdutyToken == "" {
			if !p.warned[m.ID] {
				p.warned[m.ID] = true
				p.log.Warn("pagerduty medium has no pagerduty_token: acknowledgements made on PagerDuty are not polled for it", "medium", m.ID)
			}
			continue
		}
		media = append(media, m)
	}
	slices.SortFunc(media, func(a, b *flapjack.Medium) int { return cmp.Compare(a.ID, b.ID) })
	var out []mediumChecks
	index := map[string]int{}
	for i := range checks {
		c := &checks[i]
		for _, m := range media {
			if !p.opts.Router.RoutesToMedium(rt, m.ID, c, now) {
				continue
			}
			j, ok := index[m.ID]
			if !ok {
				j = len(out)
				index[m.ID] = j
				out = append(out, mediumChecks{medium: m})
			}
			out[j].checks = append(out[j].checks, c.Name)
			break
		}
	}
	slices.SortFunc(out, func(a, b mediumChecks) int { return cmp.Compare(a.medium.ID, b.medium.ID) })
	for _, g := range out {
		slices.Sort(g.checks)
	}
	return out
}

// incidentPage is the part of a REST API v2 list of incidents the poller reads.
type incidentPage struct {
	Incidents []incident `json:"incidents"`
	Limit     int        `json:"limit"`
	More      bool       `json:"more"`
}

type incident struct {
	IncidentKey        string `json:"incident_key"`
	Status             string `json:"status"`
	LastStatusChangeBy *struct {
		Summary string `json:"summary"`
		Name    string `json:"name"` // REST API v1
	} `json:"last_status_change_by"`
}

// acknowledged lists the medium's incidents acknowledged in [since, until]:
// the incident key of each, with who acknowledged it ("" when unknown). It
// returns the number of requests it made.
func (p *AckPoller) acknowledged(ctx context.Context, m *flapjack.Medium, since, until time.Time) (map[string]string, int, error) {
	out := map[string]string{}
	offset := 0
	for page := range p.opts.MaxPages {
		var pg incidentPage
		if err := p.get(ctx, m.PagerdutyToken, since, until, offset, &pg); err != nil {
			return nil, page + 1, err
		}
		for _, inc := range pg.Incidents {
			if inc.IncidentKey == "" || inc.Status != "" && inc.Status != "acknowledged" {
				continue
			}
			by := ""
			if b := inc.LastStatusChangeBy; b != nil {
				by = cmp.Or(b.Summary, b.Name)
			}
			if prev, seen := out[inc.IncidentKey]; !seen || prev == "" {
				out[inc.IncidentKey] = by
			}
		}
		if !pg.More || len(pg.Incidents) == 0 {
			return out, page + 1, nil
		}
		offset += cmp.Or(pg.Limit, len(pg.Incidents))
	}
	p.log.Warn("pagerduty ack poller: stopped reading incidents after the most pages", "medium", m.ID, "pages", p.opts.MaxPages)
	return out, p.opts.MaxPages, nil
}

// get reads one page of acknowledged incidents into pg. Its errors show
// neither the token nor the response body. It does not send with
// gateway.HTTPRequest, which reads 64 KiB of a response at most: a page of 100
// incidents is larger.
func (p *AckPoller) get(ctx context.Context, token string, since, until time.Time, offset int, pg *incidentPage) error {
	u := *p.api
	u.Path = strings.TrimSuffix(u.Path, "/") + "/incidents"
	u.RawPath = ""
	u.RawQuery = url.Values{
		"statuses[]": {"acknowledged"},
		"since":      {since.UTC().Format(time.RFC3339)},
		"until":      {until.UTC().Format(time.RFC3339)},
		"limit":      {strconv.Itoa(pageSize)},
		"offset":     {strconv.Itoa(offset)},
	}.Encode()
	rctx, cancel := context.WithTimeout(ctx, p.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return errors.New("cannot build the HTTP request") // its text quotes the URL
	}
	req.Header.Set("Authorization", "Token token="+token)
	req.Header.Set("Accept", "application/vnd.pagerduty+json;version=2")
	resp, err := p.opts.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case rctx.Err() != nil:
			return fmt.Errorf("no response within %s: %w", p.opts.Timeout, rctx.Err())
		}
		return err
	}
	defer resp.Body.Close()
	if err := gateway.CheckResponse(resp); err != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return err
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxPageBytes)).Decode(pg); err != nil {
		if rctx.Err() != nil {
			return fmt.Errorf("no complete response within %s: %w", p.opts.Timeout, rctx.Err())
		}
		return errors.New("the list of incidents is not the JSON expected")
	}
	return nil
}
