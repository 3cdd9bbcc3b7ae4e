package web_test

import (
	"context"
	"encoding/json"
	"github.com/x/flapjack/flapjacktest"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
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
	// client keeps cookies, as a browser, and follows no redirects, so that
	// tests see where actions send the browser.
	client *http.Client
}

// newFixture serves the web interface over a memory store holding a failing
// check, a healthy one, a disabled one, a check with a hostile name, and a
// contact whose rule routes the "db" tag to an email medium.
func newFixture(t *testing.T, prefix string) *fixture {
	t.Helper()
	return newFixtureWith(t, prefix, nil)
}

// newFixtureWith is newFixture with options changed by set.
func newFixtureWith(t *testing.T, prefix string, set func(*web.Options)) *fixture {
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
	opts := web.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), Clock: clock, Prefix: prefix, PageSize: 2, AutoRefresh: 30 * time.Second}
	if set != nil {
		set(&opts)
	}
	f.srv = httptest.NewServer(web.Handler(st, opts))
	t.Cleanup(f.srv.Close)
	jar, err := cookiejar.New(nil)
	must(t, err)
	f.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
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
	resp, err := f.client.Get(f.srv.URL + path)
	must(f.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sent is what a form post led to.
type sent struct {
	status int
	// loc is the redirect target; notice and err the message the page
	// there showed.
	loc, notice, err string
}

var flashPattern = regexp.MustCompile(`<p class="flash (error|notice)" role="[a-z]+">([^<]*)</p>`)

// flashOf returns the error and the notice a page shows.
func flashOf(body string) (errMsg, notice string) {
	for _, m := range flashPattern.FindAllStringSubmatch(body, -1) {
		if m[1] == "error" {
			errMsg = html.UnescapeString(m[2])
		} else {
			notice = html.UnescapeString(m[2])
		}
	}
	return errMsg, notice
}

// post submits a form from the same origin, as a browser, and follows the
// redirect it leads to.
func (f *fixture) post(path string, form url.Values) sent {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := f.client.Do(req)
	must(f.t, err)
	resp.Body.Close()
	s := sent{status: resp.StatusCode, loc: resp.Header.Get("Location")}
	if s.status == http.StatusSeeOther {
		_, body := f.get(s.loc)
		s.err, s.notice = flashOf(body)
	}
	return s
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
		if s := f.post(p, url.Values{"_method": {"PATCH"}}); s.status != http.StatusNotFound {
			t.Errorf("PATCH %s: %d, want 404", p, s.status)
		}
	}
	if s := f.post("/acknowledgements", url.Values{"check_id": {"nope"}}); s.status != http.StatusNotFound {
		t.Errorf("acknowledging an unknown check: %d, want 404", s.status)
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
	s := f.post("/acknowledgements", url.Values{"check_id": {c.ID}, "summary": {"on it"}, "duration": {"90 minutes"}})
	if s.status != http.StatusSeeOther || s.loc != "/checks/"+c.ID || !strings.HasPrefix(s.notice, "Acknowledgement for 1 hour 30 minutes sent") {
		t.Fatalf("acknowledge: %+v", s)
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
	s = f.post("/unscheduled_maintenances/"+m.ID, url.Values{"_method": {"PATCH"}})
	if s.status != http.StatusSeeOther || s.err != "" || s.notice != "Unscheduled maintenance ended." {
		t.Fatalf("end unscheduled maintenance: %+v", s)
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
	if s := f.post("/acknowledgements", url.Values{"check_id": {ok2.ID}}); !strings.Contains(s.err, "not failing") {
		t.Fatalf("acknowledging a healthy check: %+v", s)
	}
}

func TestScheduledMaintenance(t *testing.T) {
	f := newFixture(t, "/web")
	c := f.check("db1:replication")
	s := f.post("/web/scheduled_maintenances", url.Values{"check_id": {c.ID}, "start_time": {"now"},
		"duration": {"2 hours"}, "summary": {"upgrade"}})
	if s.status != http.StatusSeeOther || s.loc != "/web/checks/"+c.ID || s.notice != "Scheduled maintenance added." {
		t.Fatalf("schedule: %+v", s)
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
	s = f.post("/web/scheduled_maintenances", url.Values{"check_id": {c.ID}, "start_time": {"whenever"}, "duration": {"1 hour"}})
	if s.loc != "/web/checks/"+c.ID || !strings.Contains(s.err, "cannot read the start time") {
		t.Fatalf("unreadable start: %+v", s)
	}

	f.clock.Advance(time.Minute)
	if s := f.post("/web/scheduled_maintenances/"+cur.ID, url.Values{"_method": {"PATCH"}}); s.status != http.StatusSeeOther || s.err != "" {
		t.Fatalf("end now: %+v", s)
	}
	if s := f.post("/web/scheduled_maintenances/"+future.ID, url.Values{"_method": {"DELETE"}}); s.status != http.StatusSeeOther || s.err != "" {
		t.Fatalf("delete: %+v", s)
	}
	got = f.check(c.Name)
	if len(got.ScheduledMaintenances) != 1 || !got.ScheduledMaintenances[0].End.Equal(f.clock.Now()) {
		t.Fatalf("maintenances after end and delete: %+v", got.ScheduledMaintenances)
	}
	f.clock.Advance(time.Second)
	if s := f.post("/web/scheduled_maintenances/"+cur.ID, url.Values{"_method": {"PATCH"}}); !strings.Contains(s.err, "already over") {
		t.Fatalf("ending a finished maintenance: %+v", s)
	}
}

func TestDisable(t *testing.T) {
	f := newFixture(t, "")
	c := f.check("web1:http")
	s := f.post("/checks/"+c.ID, url.Values{"_method": {"PATCH"}})
	if s.status != http.StatusSeeOther || s.loc != "/" || s.notice != "Check web1:http decommissioned." {
		t.Fatalf("disable: %+v", s)
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
