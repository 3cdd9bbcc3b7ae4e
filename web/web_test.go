package web_test

import (
	"context"
	"encoding/json"
	"github.com/x/flapjack/flapjacktest"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	"github.com/x/flapjack/web"
)

type fixture struct {
	t     *testing.T
	st    *memory.Store
	clock *flapjacktest.Clock
	proc  *processor.Processor
	srv   *httptest.Server
}

// newFixture serves the web interface over a memory store holding a failing
// check, a healthy one, a disabled one, a check with a hostile name, and a
// contact whose rule routes the "db" tag to an email medium.
func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	clock := flapjacktest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	f := &fixture{t: t, st: st, clock: clock,
		proc: processor.New(st, processor.Options{Clock: clock, Instance: "test:1"})}
	f.event("db1:replication", "ok", "all good", "")
	f.clock.Advance(time.Minute)
	f.event("db1:replication", "critical", "lag 300s", "lag=300s;60;120")
	f.event("web1:http", "ok", "200 OK", "")
	f.event("old:thing", "ok", "fine", "")
	f.event("<script>alert(1)</script>", "warning", "<b>bold</b>", "")
	ctx := context.Background()
	for _, name := range []string{"db1:replication", "web1:http"} {
		if _, err := st.UpdateCheck(ctx, name, false, func(u *store.CheckUpdate) error {
			u.Check.Tags = []string{"db"}
			if name == "web1:http" {
				u.Check.Tags = []string{"web"}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpdateCheck(ctx, "old:thing", false, func(u *store.CheckUpdate) error {
		u.Check.Enabled = false
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	must(t, st.PutContact(ctx, flapjack.Contact{ID: "c1", Name: "Alice <ops>", Timezone: "Europe/Rome"}))
	must(t, st.PutMedium(ctx, flapjack.Medium{ID: "m1", ContactID: "c1", Transport: "email", Address: "alice@example.com", Interval: 900}))
	must(t, st.PutRule(ctx, flapjack.Rule{ID: "r1", ContactID: "c1", Name: "db pages", Enabled: true,
		Strategy: flapjack.AnyTag, Tags: []string{"db"}, MediaIDs: []string{"m1"}}))
	must(t, st.PutRule(ctx, flapjack.Rule{ID: "r2", ContactID: "c1", Name: "storage", Enabled: true,
		Strategy: flapjack.AllTags, Tags: []string{"storage"}}))
	h := web.Handler(st, web.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), Clock: clock, Prefix: prefix, PageSize: 2, AutoRefresh: 30 * time.Second})
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) event(check, state, summary, perf string) {
	f.t.Helper()
	if _, err := f.proc.Process(context.Background(), flapjack.Event{Check: check, State: state, Summary: summary, Perfdata: perf}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) check(name string) flapjack.Check {
	f.t.Helper()
	c, err := f.st.Check(context.Background(), name)
	must(f.t, err)
	return c
}

// client follows no redirects, so tests see where actions send the browser.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (f *fixture) get(path string) (int, string) {
	f.t.Helper()
	resp, err := client.Get(f.srv.URL + path)
	must(f.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post submits a form from the same origin and returns the status and the
// redirect target.
func (f *fixture) post(path string, form url.Values) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := client.Do(req)
	must(f.t, err)
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func contains(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("page lacks %q:\n%s", w, body)
		}
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t, "")
	db := f.check("db1:replication")
	cases := []struct {
		path  string
		wants []string
	}{
		{"/", []string{"2</strong> out of <strong>3</strong> checks are failing", `href="/checks?enabled=true&amp;failing=true"`}},
		{"/checks", []string{"Page 1 of 2", "<th>Last Notification</th>", `rel="next"`, `http-equiv="refresh" content="30"`}},
		{"/checks?page=2", []string{"Page 2 of 2", "web1:http", "OK"}},
		{"/checks?name=db1:replication", []string{"db1:replication", "CRITICAL", "lag 300s", `class="cond-critical"`}},
		{"/checks?name=/^web/", []string{"web1:http"}},
		{"/checks?enabled=false", []string{"old:thing", "disabled"}},
		{"/checks/" + db.ID, []string{"State: <strong>CRITICAL</strong>", "lag 300s", `id="acknowledge"`, `value="2 hours"`,
			"Add Scheduled Maintenance", "<td>lag</td><td>300s</td>", `<svg class="timeline"`, "Alice &lt;ops&gt;",
			"email: alice@example.com", "Decommission Check", `name="_method" value="PATCH"`, "Last critical notification"}},
		{"/checks/" + f.check("old:thing").ID, []string{"DISABLED. Last State: <strong>OK</strong>"}},
		{"/checks/" + f.check("web1:http").ID, []string{"not in maintenance", "No contact"}},
		{"/contacts", []string{"Alice &lt;ops&gt;", "/contacts/c1"}},
		{"/contacts/c1", []string{"alice@example.com", "15 minutes", "<th>Summary mode</th>", "db pages", "any_tag", "db1:replication"}},
		{"/tags", []string{`href="/tags/db"`, `href="/tags/storage"`, "Page 1 of 2"}},
		{"/tags?page=2", []string{`href="/tags/web"`}},
		{"/tags/storage", []string{"No check carries this tag", "storage", `href="/contacts/c1"`}},
		{"/tags/db", []string{"db1:replication", "Failing?", "yes"}},
		{"/self_stats", []string{"Events queued", "Disabled checks</dt><dd>1", "test:1", "all 5"}},
		{"/static/style.css", []string{"tr.cond-critical"}},
	}
	for _, c := range cases {
		status, body := f.get(c.path)
		if status != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", c.path, status, body)
			continue
		}
		contains(t, body, c.wants...)
	}
	if _, body := f.get("/checks?name=web1:http"); strings.Contains(body, "db1:replication") {
		t.Error("exact name filter let another check through")
	}
}

func TestNotFound(t *testing.T) {
	f := newFixture(t, "")
	for _, p := range []string{"/checks/nope", "/contacts/nope", "/tags/nope", "/nope"} {
		if status, _ := f.get(p); status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, status)
		}
	}
	for _, p := range []string{"/scheduled_maintenances/nope", "/unscheduled_maintenances/nope", "/checks/nope"} {
		if status, _ := f.post(p, url.Values{"_method": {"PATCH"}}); status != http.StatusNotFound {
			t.Errorf("PATCH %s: %d, want 404", p, status)
		}
	}
	if status, _ := f.post("/acknowledgements", url.Values{"check_id": {"nope"}}); status != http.StatusNotFound {
		t.Errorf("acknowledging an unknown check: %d, want 404", status)
	}
}

func TestEscaping(t *testing.T) {
	f := newFixture(t, "")
	c := f.check("<script>alert(1)</script>")
	for _, p := range []string{"/checks", "/checks/" + c.ID, "/checks?name=" + url.QueryEscape(c.Name)} {
		_, body := f.get(p)
		if strings.Contains(body, "<script>") || strings.Contains(body, "<b>bold") {
			t.Errorf("GET %s: unescaped markup:\n%s", p, body)
		}
		contains(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;")
	}
}

func TestAcknowledge(t *testing.T) {
	f := newFixture(t, "")
	c := f.check("db1:replication")
	status, loc := f.post("/acknowledgements", url.Values{"check_id": {c.ID}, "summary": {"on it"}, "duration": {"90 minutes"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/checks/"+c.ID+"?notice=") {
		t.Fatalf("acknowledge: %d to %q", status, loc)
	}
	q := f.st.Queue("events")
	items, err := q.Reserve(context.Background(), 10, false)
	must(t, err)
	if len(items) != 1 {
		t.Fatalf("%d events queued, want 1", len(items))
	}
	var ev map[string]any
	must(t, json.Unmarshal(items[0].Payload, &ev))
	if ev["check"] != c.Name || ev["state"] != "acknowledgement" || ev["summary"] != "on it" || ev["duration"] != float64(5400) {
		t.Fatalf("event %s", items[0].Payload)
	}
	if _, err := f.proc.ProcessRaw(context.Background(), items[0].Payload); err != nil {
		t.Fatal(err)
	}
	must(t, q.Ack(context.Background(), items...))
	after := f.check(c.Name)
	m, ok := after.InUnscheduledMaintenance(f.clock.Now())
	if !ok || m.Summary != "on it" || m.End.Sub(m.Start) != 90*time.Minute {
		t.Fatalf("not in unscheduled maintenance: %+v", after.UnscheduledMaintenances)
	}
	_, body := f.get("/checks/" + c.ID)
	contains(t, body, "End Unscheduled Maintenance", "Replace acknowledgment", "on it")

	// End it through the form.
	status, loc = f.post("/unscheduled_maintenances/"+m.ID, url.Values{"_method": {"PATCH"}})
	if status != http.StatusSeeOther || strings.Contains(loc, "error=") {
		t.Fatalf("end unscheduled maintenance: %d to %q", status, loc)
	}
	f.clock.Advance(time.Second)
	if ended := f.check(c.Name); func() bool { _, ok := ended.InUnscheduledMaintenance(f.clock.Now()); return ok }() {
		t.Fatal("still in unscheduled maintenance")
	}

	// Unreadable durations mean 4 hours; a healthy check cannot be acknowledged.
	f.post("/acknowledgements", url.Values{"check_id": {c.ID}, "duration": {"a while"}})
	items, _ = q.Reserve(context.Background(), 10, false)
	if len(items) != 1 || !strings.Contains(string(items[0].Payload), `"duration":14400`) {
		t.Fatalf("default duration: %q", items)
	}
	ok2 := f.check("web1:http")
	if _, loc := f.post("/acknowledgements", url.Values{"check_id": {ok2.ID}}); !strings.Contains(loc, "error=") {
		t.Fatalf("acknowledging a healthy check went to %q", loc)
	}
}

func TestScheduledMaintenance(t *testing.T) {
	f := newFixture(t, "/web")
	c := f.check("db1:replication")
	status, loc := f.post("/web/scheduled_maintenances", url.Values{"check_id": {c.ID}, "start_time": {"now"},
		"duration": {"2 hours"}, "summary": {"upgrade"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/web/checks/"+c.ID+"?notice=") {
		t.Fatalf("schedule: %d to %q", status, loc)
	}
	now := f.clock.Now()
	got := f.check(c.Name)
	cur, ok := got.InScheduledMaintenance(now)
	if !ok || cur.Summary != "upgrade" || cur.End.Sub(cur.Start) != 2*time.Hour {
		t.Fatalf("maintenances %+v", got.ScheduledMaintenances)
	}
	f.post("/web/scheduled_maintenances", url.Values{"check_id": {c.ID}, "start_time": {"in 1 day"}, "duration": {"1 hour"}})
	got = f.check(c.Name)
	if len(got.ScheduledMaintenances) != 2 {
		t.Fatalf("maintenances %+v", got.ScheduledMaintenances)
	}
	future := got.ScheduledMaintenances[1]
	_, body := f.get("/web/checks/" + c.ID)
	contains(t, body, "In scheduled maintenance: upgrade", "End Now", "Delete", `href="/web/static/style.css"`)
	if strings.Contains(body, `id="acknowledge"`) {
		t.Error("acknowledge form shown during scheduled maintenance")
	}

	// Bad input goes back with a message.
	_, loc = f.post("/web/scheduled_maintenances", url.Values{"check_id": {c.ID}, "start_time": {"whenever"}, "duration": {"1 hour"}})
	if !strings.Contains(loc, "error=") {
		t.Fatalf("unreadable start went to %q", loc)
	}
	_, body = f.get(loc)
	contains(t, body, `class="flash error"`, "cannot read the start time")

	f.clock.Advance(time.Minute)
	if status, loc := f.post("/web/scheduled_maintenances/"+cur.ID, url.Values{"_method": {"PATCH"}}); status != http.StatusSeeOther || strings.Contains(loc, "error=") {
		t.Fatalf("end now: %d to %q", status, loc)
	}
	if status, loc := f.post("/web/scheduled_maintenances/"+future.ID, url.Values{"_method": {"DELETE"}}); status != http.StatusSeeOther || strings.Contains(loc, "error=") {
		t.Fatalf("delete: %d to %q", status, loc)
	}
	got = f.check(c.Name)
	if len(got.ScheduledMaintenances) != 1 || !got.ScheduledMaintenances[0].End.Equal(f.clock.Now()) {
		t.Fatalf("maintenances after end and delete: %+v", got.ScheduledMaintenances)
	}
	f.clock.Advance(time.Second)
	if _, loc := f.post("/web/scheduled_maintenances/"+cur.ID, url.Values{"_method": {"PATCH"}}); !strings.Contains(loc, "error=") {
		t.Fatalf("ending a finished maintenance went to %q", loc)
	}
}

func TestDisable(t *testing.T) {
	f := newFixture(t, "")
	c := f.check("web1:http")
	status, loc := f.post("/checks/"+c.ID, url.Values{"_method": {"PATCH"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/?notice=") {
		t.Fatalf("disable: %d to %q", status, loc)
	}
	if f.check(c.Name).Enabled {
		t.Fatal("check still enabled")
	}
	_, body := f.get("/checks/" + c.ID)
	contains(t, body, "DISABLED. Last")
}

func TestWritesNeedPostFromSameOrigin(t *testing.T) {
	f := newFixture(t, "")
	c := f.check("web1:http")
	// A cross-site form post is refused.
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/checks/"+c.ID, strings.NewReader("_method=PATCH"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := client.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: %d, want 403", resp.StatusCode)
	}
	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/checks/"+c.ID, strings.NewReader("_method=PATCH"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	resp, err = client.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign-origin post: %d, want 403", resp.StatusCode)
	}
	// GET never changes anything.
	if status, _ := f.get("/checks/" + c.ID + "?_method=PATCH"); status != http.StatusOK {
		t.Errorf("GET with _method: %d", status)
	}
	if !f.check(c.Name).Enabled {
		t.Fatal("check disabled by a refused request")
	}
}

// TestMountedBesideAPI mounts the interface as the jsonapi server would, at
// /web/ beside the JSON:API at the root.
func TestMountedBesideAPI(t *testing.T) {
	st := memory.New()
	defer st.Close()
	if _, err := processor.New(st, processor.Options{}).Process(context.Background(),
		flapjack.Event{Check: "a:b", State: "critical"}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", api.Handler(st, api.Options{}))
	mux.Handle("/web/", web.Handler(st, web.Options{Prefix: "/web"}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for path, want := range map[string]string{
		"/web/":       `href="/web/checks?enabled=true&amp;failing=true"`,
		"/web/checks": `href="/web/checks/`,
		"/checks":     `"type":"check"`,
	} {
		resp, err := http.Get(srv.URL + path)
		must(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), want) {
			t.Errorf("GET %s: %d, lacks %q:\n%s", path, resp.StatusCode, want, b)
		}
	}
}
