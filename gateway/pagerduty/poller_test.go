package pagerduty_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/pagerduty"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	redisstore "github.com/x/flapjack/store/redis"
)

var (
	_ pagerduty.AckStore = (*memory.Store)(nil)
	_ pagerduty.AckStore = (*redisstore.Store)(nil)
)

// apiToken is a medium's REST API token, a secret.
const apiToken = "t0k3n-abc-SECRET-rest"

// t0 is the time of the first poll.
var t0 = time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC)

const checkName = "example.com:ping"

// clock is a fake clock tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// restRequest is a request the fake REST API received.
type restRequest struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
}

// restAPI is a fake PagerDuty REST API: answer says what each request gets.
type restAPI struct {
	*httptest.Server
	mu     sync.Mutex
	reqs   []restRequest
	answer func(r *http.Request) (int, string)
}

func newRESTAPI(t *testing.T, answer func(r *http.Request) (int, string)) *restAPI {
	t.Helper()
	a := &restAPI{answer: answer}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.reqs = append(a.reqs, restRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone()})
		answer := a.answer
		a.mu.Unlock()
		status, body := answer(r)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *restAPI) requests() []restRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.reqs)
}

// page is a REST API v2 list of incidents, one per key, acknowledged by by
// (none when empty).
func page(keys []string, by string, offset int, more bool) string {
	type ref struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Summary string `json:"summary"`
	}
	type inc struct {
		ID                 string `json:"id"`
		IncidentNumber     int    `json:"incident_number"`
		IncidentKey        string `json:"incident_key"`
		Status             string `json:"status"`
		LastStatusChangeBy *ref   `json:"last_status_change_by,omitempty"`
	}
	incs := []inc{}
	for i, k := range keys {
		in := inc{ID: fmt.Sprintf("P%06d", offset+i), IncidentNumber: offset + i + 1, IncidentKey: k, Status: "acknowledged"}
		if by != "" {
			in.LastStatusChangeBy = &ref{ID: "PABCDEF", Type: "user_reference", Summary: by}
		}
		incs = append(incs, in)
	}
	b, _ := json.Marshal(map[string]any{"incidents": incs, "limit": 100, "offset": offset, "more": more, "total": nil})
	return string(b)
}

// world is a store holding one pagerduty medium "pd" with rule "r1" routing
// every check to it, a poller over it and a fake REST API.
type world struct {
	t      *testing.T
	store  store.Store
	clock  *clock
	api    *restAPI
	poller *pagerduty.AckPoller
	logs   *gatewaytest.Logs
}

func newWorld(t *testing.T, s store.Store, answer func(r *http.Request) (int, string)) *world {
	t.Helper()
	w := &world{t: t, store: s, clock: &clock{now: t0}, logs: gatewaytest.NewLogs()}
	w.api = newRESTAPI(t, answer)
	ctx := t.Context()
	must(t, s.PutContact(ctx, flapjack.Contact{ID: "ops", Name: "Ops"}))
	w.putMedium(flapjack.Medium{ID: "pd", ContactID: "ops", Transport: pagerduty.Transport, Address: routingKey,
		PagerdutySubdomain: "mydomain", PagerdutyToken: apiToken})
	must(t, s.PutRule(ctx, flapjack.Rule{ID: "r1", ContactID: "ops", Enabled: true, Strategy: flapjack.Global, MediaIDs: []string{"pd"}}))
	w.poller = w.newPoller("poller-1")
	return w
}

func (w *world) newPoller(owner string) *pagerduty.AckPoller {
	p, err := pagerduty.NewAckPoller(w.store.(pagerduty.AckStore), pagerduty.AckPollerOptions{
		APIURL: w.api.URL, Owner: owner, Clock: w.clock, HTTPClient: w.api.Client(), Logger: w.logs.Logger(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) putMedium(m flapjack.Medium) {
	w.t.Helper()
	must(w.t, w.store.PutMedium(w.t.Context(), m))
}

// failing creates a failing check, changed by set.
func (w *world) failing(name string, set func(c *flapjack.Check)) {
	w.t.Helper()
	_, err := w.store.UpdateCheck(w.t.Context(), name, true, func(u *store.CheckUpdate) error {
		u.Check.Condition, u.Check.Failing = flapjack.Critical, true
		if set != nil {
			set(&u.Check)
		}
		return nil
	})
	must(w.t, err)
}

func (w *world) poll() pagerduty.PollResult {
	w.t.Helper()
	res, err := w.poller.Poll(w.t.Context())
	if err != nil {
		w.t.Fatalf("Poll: %v", err)
	}
	return res
}

// events takes every event off the events queue.
func (w *world) events() []string {
	w.t.Helper()
	items, err := w.store.Queue("events").Reserve(w.t.Context(), 1000, false)
	must(w.t, err)
	must(w.t, w.store.Queue("events").Ack(w.t.Context(), items...))
	var out []string
	for _, it := range items {
		out = append(out, string(it.Payload))
	}
	return out
}

// noSecrets checks every log line the poller wrote.
func (w *world) noSecrets() {
	w.t.Helper()
	gatewaytest.AssertNoSecrets(w.t, []string{apiToken, routingKey}, w.logs.Lines()...)
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newMemory(t *testing.T) store.Store {
	s := memory.New()
	t.Cleanup(func() { s.Close() })
	return s
}

func ackEvent(check, summary string, duration int) string {
	return fmt.Sprintf(`{"state":"acknowledgement","check":%q,"summary":%q,"duration":%d}`, check, summary, duration)
}

func iso(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// wantQuery checks one request for the incidents acknowledged in the window.
func wantQuery(t *testing.T, r restRequest, since, until time.Time, offset int) {
	t.Helper()
	if r.Method != http.MethodGet || r.Path != "/incidents" {
		t.Errorf("request %s %s, want GET /incidents", r.Method, r.Path)
	}
	if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != "Token token="+apiToken {
		t.Errorf("Authorization %q, want the medium's token", got)
	}
	if got := r.Header.Values("Accept"); len(got) != 1 || got[0] != "application/vnd.pagerduty+json;version=2" {
		t.Errorf("Accept %q, want application/vnd.pagerduty+json;version=2", got)
	}
	want := url.Values{
		"statuses[]": {"acknowledged"}, "since": {iso(since)}, "until": {iso(until)},
		"limit": {"100"}, "offset": {fmt.Sprint(offset)},
	}
	if fmt.Sprint(r.Query) != fmt.Sprint(want) {
		t.Errorf("query\n got %v\nwant %v", r.Query, want)
	}
}

// TestAcknowledgedOnPagerDuty is table E.5: an incident acknowledged on
// PagerDuty becomes one ack event, the first poll looking back 7 days and the
// later ones 15 minutes, all an hour ahead.
func TestAcknowledgedOnPagerDuty(t *testing.T) {
	w := newWorld(t, newMemory(t), func(*http.Request) (int, string) {
		return 200, page([]string{checkName}, "John Smith", 0, false)
	})
	w.failing(checkName, nil)

	res := w.poll()
	want := pagerduty.PollResult{Leased: true, Candidates: 1, Media: 1, Requests: 1, Acknowledged: []string{checkName}}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("Poll = %+v, want %+v", res, want)
	}
	reqs := w.api.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	wantQuery(t, reqs[0], t0.Add(-7*24*time.Hour), t0.Add(time.Hour), 0)
	if got, want := w.events(), []string{ackEvent(checkName, "Acknowledged on PagerDuty by John Smith", 14400)}; !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}

	w.clock.advance(10 * time.Second)
	w.poll()
	reqs = w.api.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	now := t0.Add(10 * time.Second)
	wantQuery(t, reqs[1], now.Add(-15*time.Minute), now.Add(time.Hour), 0)
	w.noSecrets()
}

// The first poll that fails does not count: the next one looks back 7 days.
func TestFirstWindowUntilAPollSucceeds(t *testing.T) {
	var mu sync.Mutex
	status := http.StatusBadGateway
	w := newWorld(t, newMemory(t), func(*http.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		return status, page(nil, "", 0, false)
	})
	w.failing(checkName, nil)
	if res := w.poll(); res.Requests != 1 || len(res.Acknowledged) != 0 {
		t.Errorf("failed poll = %+v", res)
	}
	mu.Lock()
	status = http.StatusOK
	mu.Unlock()
	w.clock.advance(10 * time.Second)
	w.poll()
	w.clock.advance(10 * time.Second)
	w.poll()
	reqs := w.api.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	wantQuery(t, reqs[1], t0.Add(10*time.Second-7*24*time.Hour), t0.Add(10*time.Second+time.Hour), 0)
	wantQuery(t, reqs[2], t0.Add(20*time.Second-15*time.Minute), t0.Add(20*time.Second+time.Hour), 0)
	if !w.logs.Contains("cannot list the medium's incidents", "medium=pd", "HTTP status 502") {
		t.Errorf("the failure was not logged: %q", w.logs.Lines())
	}
	w.noSecrets()
}

func TestPagination(t *testing.T) {
	others := func(from, n int) []string {
		var keys []string
		for i := range n {
			keys = append(keys, fmt.Sprintf("other-%03d:ping", from+i))
		}
		return keys
	}
	w := newWorld(t, newMemory(t), func(r *http.Request) (int, string) {
		switch r.URL.Query().Get("offset") {
		case "0":
			return 200, page(others(0, 100), "Ann", 0, true)
		case "100":
			return 200, page(append(others(100, 19), checkName), "John Smith", 100, false)
		}
		return 400, `{"error":{"message":"Invalid Input Provided","code":2001}}`
	})
	w.failing(checkName, nil)
	res := w.poll()
	if res.Requests != 2 || !slices.Equal(res.Acknowledged, []string{checkName}) {
		t.Errorf("Poll = %+v, want 2 requests and the check acknowledged", res)
	}
	reqs := w.api.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	wantQuery(t, reqs[0], t0.Add(-7*24*time.Hour), t0.Add(time.Hour), 0)
	wantQuery(t, reqs[1], t0.Add(-7*24*time.Hour), t0.Add(time.Hour), 100)
	if got, want := w.events(), []string{ackEvent(checkName, "Acknowledged on PagerDuty by John Smith", 14400)}; !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
}

// A service that always says there is more is read MaxPages pages deep.
func TestPaginationBounded(t *testing.T) {
	w := newWorld(t, newMemory(t), func(r *http.Request) (int, string) {
		return 200, page([]string{"other:ping"}, "", 0, true)
	})
	p, err := pagerduty.NewAckPoller(w.store.(pagerduty.AckStore), pagerduty.AckPollerOptions{
		APIURL: w.api.URL, Clock: w.clock, HTTPClient: w.api.Client(), Logger: w.logs.Logger(), MaxPages: 3,
	})
	must(t, err)
	w.failing(checkName, nil)
	res, err := p.Poll(t.Context())
	if err != nil || res.Requests != 3 {
		t.Errorf("Poll = %+v, %v; want 3 requests", res, err)
	}
	var offsets []string
	for _, r := range w.api.requests() {
		offsets = append(offsets, r.Query.Get("offset"))
	}
	if !slices.Equal(offsets, []string{"0", "100", "200"}) {
		t.Errorf("offsets %q, want 0, 100, 200: advancing by the page's limit", offsets)
	}
	if !w.logs.Contains("stopped reading incidents", "medium=pd", "pages=3") {
		t.Errorf("the stop was not logged: %q", w.logs.Lines())
	}
}

func TestAckSummaryAndDuration(t *testing.T) {
	for _, tc := range []struct {
		name     string
		body     string
		duration int64
		want     string
	}{
		{"medium's ack duration", page([]string{checkName}, "John Smith", 0, false), 3600,
			ackEvent(checkName, "Acknowledged on PagerDuty by John Smith", 3600)},
		{"nobody named", page([]string{checkName}, "", 0, false), 0,
			ackEvent(checkName, "Acknowledged on PagerDuty", 14400)},
		{"REST API v1 name", `{"incidents":[{"incident_number":12,"incident_key":"` + checkName +
			`","status":"acknowledged","last_status_change_by":{"id":"ABCDEFG","name":"John Smith","email":"john@example.com"}}],"limit":100,"offset":0,"total":1}`,
			0, ackEvent(checkName, "Acknowledged on PagerDuty by John Smith", 14400)},
		{"two incidents for one check: one event", `{"incidents":[{"incident_key":"` + checkName + `","status":"acknowledged"},` +
			`{"incident_key":"` + checkName + `","status":"acknowledged","last_status_change_by":{"summary":"Ann"}}],"more":false}`,
			0, ackEvent(checkName, "Acknowledged on PagerDuty by Ann", 14400)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, newMemory(t), func(*http.Request) (int, string) { return 200, tc.body })
			if tc.duration > 0 {
				w.putMedium(flapjack.Medium{ID: "pd", ContactID: "ops", Transport: pagerduty.Transport, Address: routingKey,
					PagerdutyToken: apiToken, PagerdutyAckDuration: tc.duration})
			}
			w.failing(checkName, nil)
			w.poll()
			if got := w.events(); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("events\n got %q\nwant %q", got, []string{tc.want})
			}
		})
	}
}

// Only candidates are asked about and acknowledged: enabled, failing checks in
// no maintenance, routed to a medium with a token.
func TestCandidates(t *testing.T) {
	window := func(from, to time.Duration) []flapjack.Maintenance {
		return []flapjack.Maintenance{{ID: "m1", Start: t0.Add(from), End: t0.Add(to)}}
	}
	for _, tc := range []struct {
		name  string
		setup func(w *world)
	}{
		{"no checks", func(*world) {}},
		{"an ok check", func(w *world) {
			_, err := w.store.UpdateCheck(t.Context(), checkName, true, func(u *store.CheckUpdate) error {
				u.Check.Condition = flapjack.OK
				return nil
			})
			must(t, err)
		}},
		{"acknowledged: in unscheduled maintenance", func(w *world) {
			w.failing(checkName, func(c *flapjack.Check) { c.UnscheduledMaintenances = window(-time.Minute, 4*time.Hour) })
		}},
		{"in scheduled maintenance", func(w *world) {
			w.failing(checkName, func(c *flapjack.Check) { c.ScheduledMaintenances = window(-time.Hour, time.Hour) })
		}},
		{"disabled", func(w *world) { w.failing(checkName, func(c *flapjack.Check) { c.Enabled = false }) }},
		{"routed nowhere", func(w *world) {
			must(t, w.store.PutRule(t.Context(), flapjack.Rule{ID: "r1", ContactID: "ops", Enabled: true,
				Strategy: flapjack.AnyTag, Tags: []string{"db"}, MediaIDs: []string{"pd"}}))
			w.failing(checkName, nil)
		}},
		{"blackholed", func(w *world) {
			must(t, w.store.PutRule(t.Context(), flapjack.Rule{ID: "r2", ContactID: "ops", Enabled: true, Blackhole: true,
				Strategy: flapjack.Global, MediaIDs: []string{"pd"}}))
			w.failing(checkName, nil)
		}},
		{"medium without token", func(w *world) {
			w.putMedium(flapjack.Medium{ID: "pd", ContactID: "ops", Transport: pagerduty.Transport, Address: routingKey})
			w.failing(checkName, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, newMemory(t), func(*http.Request) (int, string) {
				return 200, page([]string{checkName}, "John Smith", 0, false)
			})
			tc.setup(w)
			res := w.poll()
			if !res.Leased || res.Requests != 0 {
				t.Errorf("Poll = %+v, want no request", res)
			}
			if n := len(w.api.requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
			if got := w.events(); len(got) != 0 {
				t.Errorf("events %q, want none", got)
			}
		})
	}

	// Expired maintenance windows do not count; incidents of other checks are
	// ignored.
	w := newWorld(t, newMemory(t), func(*http.Request) (int, string) {
		return 200, page([]string{"in-maintenance:ping", "unknown:ping", checkName, "ok:ping"}, "Ann", 0, false)
	})
	w.failing(checkName, func(c *flapjack.Check) { c.UnscheduledMaintenances = window(-5*time.Hour, -time.Hour) })
	w.failing("in-maintenance:ping", func(c *flapjack.Check) { c.ScheduledMaintenances = window(0, time.Hour) })
	_, err := w.store.UpdateCheck(t.Context(), "ok:ping", true, func(u *store.CheckUpdate) error {
		u.Check.Condition = flapjack.OK
		return nil
	})
	must(t, err)
	if res := w.poll(); res.Candidates != 1 || !slices.Equal(res.Acknowledged, []string{checkName}) {
		t.Errorf("Poll = %+v, want only %s", res, checkName)
	}
	if got, want := w.events(), []string{ackEvent(checkName, "Acknowledged on PagerDuty by Ann", 14400)}; !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
}

// Each check is polled through the first medium, by id, with a token whose
// rules route it there.
func TestGroupingByMedium(t *testing.T) {
	const tokenA, tokenB = "t0ken-A-SECRET", "t0ken-B-SECRET"
	incidents := map[string][]string{
		// b also knows about web:http, but web:http is polled through a.
		tokenA: {"web:http"},
		tokenB: {"web:http", "db:disk"},
	}
	w := newWorld(t, newMemory(t), func(r *http.Request) (int, string) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Token token=")
		return 200, page(incidents[tok], "Ann", 0, false)
	})
	ctx := t.Context()
	w.putMedium(flapjack.Medium{ID: "a", ContactID: "ops", Transport: pagerduty.Transport, Address: "key-a", PagerdutyToken: tokenA})
	w.putMedium(flapjack.Medium{ID: "b", ContactID: "ops", Transport: pagerduty.Transport, Address: "key-b", PagerdutyToken: tokenB, PagerdutyAckDuration: 600})
	w.putMedium(flapjack.Medium{ID: "0-no-token", ContactID: "ops", Transport: pagerduty.Transport, Address: "key-0"})
	w.putMedium(flapjack.Medium{ID: "0-email", ContactID: "ops", Transport: "email", Address: "ops@example.com"})
	must(t, w.store.PutRule(ctx, flapjack.Rule{ID: "r1", ContactID: "ops", Enabled: true, Strategy: flapjack.AnyTag,
		Tags: []string{"web"}, MediaIDs: []string{"0-email", "0-no-token", "a", "b"}}))
	must(t, w.store.PutRule(ctx, flapjack.Rule{ID: "r2", ContactID: "ops", Enabled: true, Strategy: flapjack.Global,
		Conditions: []flapjack.Condition{flapjack.Warning}, MediaIDs: []string{"b"}})) // conditions are ignored
	w.failing("web:http", func(c *flapjack.Check) { c.Tags = []string{"web"} })
	w.failing("db:disk", nil)

	res := w.poll()
	if res.Media != 2 || res.Requests != 2 || !slices.Equal(res.Acknowledged, []string{"db:disk", "web:http"}) {
		t.Errorf("Poll = %+v, want 2 media polled and both checks acknowledged", res)
	}
	got := w.events()
	slices.Sort(got)
	want := []string{
		ackEvent("db:disk", "Acknowledged on PagerDuty by Ann", 600),
		ackEvent("web:http", "Acknowledged on PagerDuty by Ann", 14400),
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	if !w.logs.Contains("has no pagerduty_token", "medium=0-no-token") {
		t.Errorf("the medium without a token was not reported: %q", w.logs.Lines())
	}
	gatewaytest.AssertNoSecrets(t, []string{tokenA, tokenB}, w.logs.Lines()...)
}

// A medium whose requests fail is skipped, the others polled, and no token
// shows in a log line.
func TestFailingMedium(t *testing.T) {
	const goodToken = "g00d-t0ken-SECRET"
	w := newWorld(t, newMemory(t), func(r *http.Request) (int, string) {
		switch r.Header.Get("Authorization") {
		case "Token token=" + goodToken:
			return 200, page([]string{"db:disk"}, "Ann", 0, false)
		case "Token token=" + apiToken:
			// Echo the request, as careless servers do.
			return 401, fmt.Sprintf(`{"error":{"message":"Unauthorized %v %s"}}`, r.Header, r.URL)
		}
		return 500, ""
	})
	w.putMedium(flapjack.Medium{ID: "pd2", ContactID: "ops", Transport: pagerduty.Transport, Address: "key-2", PagerdutyToken: goodToken})
	must(t, w.store.PutRule(t.Context(), flapjack.Rule{ID: "r1", ContactID: "ops", Enabled: true, Strategy: flapjack.AnyTag,
		Tags: []string{"web"}, MediaIDs: []string{"pd"}}))
	must(t, w.store.PutRule(t.Context(), flapjack.Rule{ID: "r2", ContactID: "ops", Enabled: true, Strategy: flapjack.NoTag,
		Tags: []string{"web"}, MediaIDs: []string{"pd2"}}))
	w.failing("web:http", func(c *flapjack.Check) { c.Tags = []string{"web"} })
	w.failing("db:disk", nil)
	res := w.poll()
	if res.Requests != 2 || !slices.Equal(res.Acknowledged, []string{"db:disk"}) {
		t.Errorf("Poll = %+v, want db:disk acknowledged through the medium that works", res)
	}
	if !w.logs.Contains("cannot list the medium's incidents", "medium=pd", "HTTP status 401 Unauthorized") {
		t.Errorf("the failure was not logged: %q", w.logs.Lines())
	}
	gatewaytest.AssertNoSecrets(t, []string{apiToken, goodToken, routingKey}, w.logs.Lines()...)

	// A body that is not a list of incidents.
	w2 := newWorld(t, newMemory(t), func(*http.Request) (int, string) { return 200, `<html>` + apiToken + `</html>` })
	w2.failing(checkName, nil)
	if res := w2.poll(); len(res.Acknowledged) != 0 {
		t.Errorf("Poll = %+v", res)
	}
	if !w2.logs.Contains("not the JSON expected") {
		t.Errorf("the bad body was not logged: %q", w2.logs.Lines())
	}
	w2.noSecrets()
}

// A lease another process holds means no polling this cycle; a poller
// releases the lease after each poll.
func TestLeaseHeldByAnother(t *testing.T) {
	w := newWorld(t, newMemory(t), func(*http.Request) (int, string) {
		return 200, page([]string{checkName}, "John Smith", 0, false)
	})
	w.failing(checkName, nil)
	leaser := w.store.(store.Leaser)
	ok, err := leaser.AcquireLease(t.Context(), pagerduty.LeaseName, "another-process", time.Hour)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if res := w.poll(); res.Leased || res.Requests != 0 {
		t.Errorf("Poll = %+v, want nothing done", res)
	}
	if n := len(w.api.requests()); n != 0 || len(w.events()) != 0 {
		t.Errorf("%d requests and events while another held the lease", n)
	}
	must(t, leaser.ReleaseLease(t.Context(), pagerduty.LeaseName, "another-process"))
	if res := w.poll(); !res.Leased || len(res.Acknowledged) != 1 {
		t.Errorf("Poll = %+v, want a poll once the lease is free", res)
	}
	if ok, err := leaser.AcquireLease(t.Context(), pagerduty.LeaseName, "another-process", time.Hour); !ok || err != nil {
		t.Errorf("the poller kept its lease after polling: AcquireLease = %v, %v", ok, err)
	}
}

// Two pollers on one store: while one polls, the other does nothing.
func TestTwoPollersOneStore(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store func(t *testing.T) store.Store
	}{
		{"memory", newMemory},
		{"redis", func(t *testing.T) store.Store {
			srv := redistest.Start(t, redistest.Config{})
			s, err := redisstore.New(t.Context(), redisstore.Options{Addrs: []string{srv.Addr()}, DialTimeout: time.Second})
			must(t, err)
			t.Cleanup(func() { s.Close() })
			return s
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			arrived, proceed := make(chan struct{}, 10), make(chan struct{})
			w := newWorld(t, tc.store(t), func(r *http.Request) (int, string) {
				arrived <- struct{}{}
				select {
				case <-proceed:
				case <-r.Context().Done():
				}
				return 200, page([]string{checkName}, "John Smith", 0, false)
			})
			w.failing(checkName, nil)
			other := w.newPoller("poller-2")

			first := make(chan pagerduty.PollResult, 1)
			go func() {
				res, err := w.poller.Poll(context.Background())
				if err != nil {
					t.Errorf("first Poll: %v", err)
				}
				first <- res
			}()
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the first poller did not reach PagerDuty")
			}
			res, err := other.Poll(t.Context())
			if err != nil || res.Leased || res.Requests != 0 {
				t.Errorf("second Poll during the first = %+v, %v; want nothing done", res, err)
			}
			close(proceed)
			if res := <-first; !res.Leased || !slices.Equal(res.Acknowledged, []string{checkName}) {
				t.Errorf("first Poll = %+v", res)
			}
			if n := len(w.api.requests()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			if got := w.events(); len(got) != 1 {
				t.Errorf("events %q, want one", got)
			}
			// Once the first is done, the second may poll.
			if res, err := other.Poll(t.Context()); err != nil || !res.Leased {
				t.Errorf("second Poll afterwards = %+v, %v; want it leased", res, err)
			}
		})
	}
}

// Run polls at once and every interval, and stops promptly, releasing the
// lease, even in the middle of a request.
func TestRun(t *testing.T) {
	var mu sync.Mutex
	stall := false
	w := newWorld(t, newMemory(t), func(r *http.Request) (int, string) {
		mu.Lock()
		s := stall
		mu.Unlock()
		if s {
			<-r.Context().Done()
		}
		return 200, page(nil, "", 0, false)
	})
	w.failing(checkName, nil)
	p, err := pagerduty.NewAckPoller(w.store.(pagerduty.AckStore), pagerduty.AckPollerOptions{
		APIURL: w.api.URL, Clock: w.clock, HTTPClient: w.api.Client(), Interval: 5 * time.Millisecond, Owner: "runner",
	})
	must(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(w.api.requests()) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not poll repeatedly")
		}
		time.Sleep(time.Millisecond)
	}
	if err := p.Run(ctx); err != pagerduty.ErrRunning {
		t.Errorf("a second Run = %v, want ErrRunning", err)
	}
	mu.Lock()
	stall = true
	mu.Unlock()
	n := len(w.api.requests())
	for len(w.api.requests()) == n {
		if time.Now().After(deadline) {
			t.Fatal("Run did not poll again")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop within 5 s of cancellation")
	}
	ok, err := w.store.(store.Leaser).AcquireLease(t.Context(), pagerduty.LeaseName, "another-process", time.Hour)
	if !ok || err != nil {
		t.Errorf("the lease was kept after Run stopped: AcquireLease = %v, %v", ok, err)
	}
}

func TestNewAckPollerErrors(t *testing.T) {
	if _, err := pagerduty.NewAckPoller(nil, pagerduty.AckPollerOptions{}); err == nil {
		t.Error("a nil store accepted")
	}
	_, err := pagerduty.NewAckPoller(newMemory(t).(pagerduty.AckStore), pagerduty.AckPollerOptions{APIURL: "ftp://api.pagerduty.com"})
	if err == nil || !strings.Contains(err.Error(), "api_url: want an https URL") {
		t.Errorf("NewAckPoller with an ftp URL: %v", err)
	}
}

// The processor reads the poller's events as acknowledgements of the check.
func TestAckEventIsValid(t *testing.T) {
	w := newWorld(t, newMemory(t), func(*http.Request) (int, string) {
		return 200, page([]string{checkName}, "John Smith", 0, false)
	})
	w.failing(checkName, nil)
	w.poll()
	got := w.events()
	if len(got) != 1 {
		t.Fatalf("events %q, want one", got)
	}
	ev, err := flapjack.ParseEvent([]byte(got[0]))
	if err != nil {
		t.Fatalf("ParseEvent(%s): %v", got[0], err)
	}
	if ev.CheckName() != checkName || ev.Action() != flapjack.Acknowledgement || ev.AcknowledgementDuration() != 14400 {
		t.Errorf("event %+v: want an acknowledgement of %s for 14400 s", ev, checkName)
	}
}
