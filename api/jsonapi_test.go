package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/internal/redistest"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	redisstore "github.com/x/flapjack/store/redis"
)

const (
	single = "application/vnd.api+json"
	bulk   = "application/vnd.api+json; ext=bulk"
)

// stores runs fn on a fresh memory store and on a fresh Redis store.
func stores(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("memory", func(t *testing.T) {
		st := memory.New()
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t, redistest.Config{})
		st, err := redisstore.New(t.Context(), redisstore.Options{Addrs: []string{srv.Addr()}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		fn(t, st)
	})
}

type reply struct {
	status int
	header http.Header
	body   string
	doc    map[string]any
}

type client struct {
	t *testing.T
	h http.Handler
}

func newClient(t *testing.T, st store.Store) *client {
	return &client{t: t, h: api.Handler(st, api.Options{})}
}

func (c *client) do(method, path, ctype, body string) reply {
	c.t.Helper()
	req := httptest.NewRequest(method, "http://flapjack.example:3081"+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Body)
	r := reply{status: rec.Code, header: rec.Header(), body: string(b)}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &r.doc); err != nil {
			c.t.Fatalf("%s %s: body %q is not JSON: %v", method, path, b, err)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/vnd.api+json; supported-ext=bulk; charset=utf-8" {
			c.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		c.t.Errorf("%s %s: no CORS header", method, path)
	}
	return r
}

func (c *client) want(r reply, status int, method, path string) {
	c.t.Helper()
	if r.status != status {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.status, status, r.body)
	}
}

func (c *client) get(path string) reply {
	c.t.Helper()
	r := c.do("GET", path, "", "")
	c.want(r, 200, "GET", path)
	return r
}

// create posts one object and returns its id.
func (c *client) create(path, obj string) string {
	c.t.Helper()
	r := c.do("POST", path, single, `{"data":`+obj+`}`)
	c.want(r, 201, "POST", path)
	id := r.doc["data"].(map[string]any)["id"].(string)
	if loc := r.header.Get("Location"); loc != "http://flapjack.example:3081"+path+"/"+id {
		c.t.Errorf("Location %q", loc)
	}
	return id
}

func attrs(obj any) map[string]any { return obj.(map[string]any)["attributes"].(map[string]any) }

func data(r reply) []any { return r.doc["data"].([]any) }

func errorDetail(t *testing.T, r reply) string {
	t.Helper()
	errs, ok := r.doc["errors"].([]any)
	if !ok || len(errs) == 0 {
		t.Fatalf("no errors in %s", r.body)
	}
	e := errs[0].(map[string]any)
	if e["status"] != itoa(r.status) {
		t.Errorf("error status %v, response %d", e["status"], r.status)
	}
	return e["detail"].(string)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestFrame(t *testing.T) {
	c := newClient(t, memory.New())
	r := c.do("OPTIONS", "/checks", "", "")
	c.want(r, 204, "OPTIONS", "/checks")
	for k, v := range map[string]string{
		"Access-Control-Allow-Methods": "GET, POST, PATCH, DELETE, OPTIONS",
		"Access-Control-Max-Age":       "1728000",
	} {
		if got := r.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	r = c.do("GET", "/nothing/here/at/all", "", "")
	c.want(r, 404, "GET", "/nothing")
	errorDetail(t, r)
	r = c.do("GET", "/widgets", "", "")
	c.want(r, 404, "GET", "/widgets")
}

func TestErrors(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		contact := c.create("/contacts", `{"type":"contact","attributes":{"name":"Ada"}}`)
		check := c.create("/checks", `{"type":"check","attributes":{"name":"web:http","enabled":true}}`)
		missing := "11111111-2222-4333-8444-555555555555"
		cases := []struct {
			name, method, path, ctype, body string
			status                          int
			detail                          string
		}{
			{"bulk header on single", "POST", "/contacts", bulk, `{"data":{"type":"contact","attributes":{"name":"x"}}}`, 406, "JSONAPI Bulk Extension was set in headers"},
			{"no bulk header on array", "POST", "/contacts", single, `{"data":[{"type":"contact","attributes":{"name":"x"}}]}`, 406, "JSONAPI Bulk Extension not set in headers"},
			{"form body", "POST", "/contacts", "application/x-www-form-urlencoded", `name=x`, 405, "form parameters"},
			{"no data", "POST", "/contacts", single, `{}`, 403, "Data object must be provided"},
			{"not json", "POST", "/contacts", single, `{`, 403, "Data object must be provided"},
			{"invalid attribute", "POST", "/contacts", single, `{"data":{"type":"contact","attributes":{"colour":"red"}}}`, 403, "Invalid attribute(s): colour"},
			{"read-only attribute", "PATCH", "/checks/" + check, single, `{"data":{"type":"check","id":"` + check + `","attributes":{"failing":true}}}`, 403, "Invalid attribute(s): failing"},
			{"bad timezone", "POST", "/contacts", single, `{"data":{"type":"contact","attributes":{"name":"x","timezone":"Mars/Olympus"}}}`, 403, "Validation failed, timezone Mars/Olympus is not a valid time zone"},
			{"type mismatch", "POST", "/contacts", single, `{"data":{"type":"check","attributes":{"name":"x"}}}`, 409, "does not match"},
			{"existing id", "POST", "/contacts", single, `{"data":{"type":"contact","id":"` + contact + `","attributes":{"name":"x"}}}`, 409, "Contacts already exist with the following ids: " + contact},
			{"existing check name", "POST", "/checks", single, `{"data":{"type":"check","attributes":{"name":"web:http","enabled":true}}}`, 409, "Checks already exist with the following ids: " + check},
			{"id mismatch", "PATCH", "/contacts/" + contact, single, `{"data":{"type":"contact","id":"` + missing + `","attributes":{"name":"x"}}}`, 409, "Id path/data mismatch"},
			{"missing record", "GET", "/contacts/" + missing, "", "", 404, "could not find Contact record, id: '" + missing + "'"},
			{"delete missing", "DELETE", "/checks/" + missing, "", "", 404, "could not find Check record, id: '" + missing + "'"},
			{"bulk delete missing", "DELETE", "/contacts", bulk, `{"data":[{"type":"contact","id":"` + contact + `"},{"type":"contact","id":"` + missing + `"}]}`, 404, "Could not find all records to delete"},
			{"patch missing", "PATCH", "/contacts", bulk, `{"data":[{"type":"contact","id":"` + missing + `","attributes":{"name":"x"}},{"type":"contact","id":"` + check + `","attributes":{"name":"x"}}]}`, 404, "could not find Contact records, ids: '" + missing + "', '" + check + "'"},
			{"unknown filter", "GET", "/checks?filter=colour:red", "", "", 403, `Invalid filter key: "colour"`},
			{"bad bool filter", "GET", "/checks?filter=enabled:maybe", "", "", 403, "Invalid filter value"},
			{"bad regex", "GET", "/checks?filter=name:/(/", "", "", 403, "Invalid filter value"},
			{"reversed range", "GET", "/statistics?filter=created_at:2020-01-02T00:00:00Z..2020-01-01T00:00:00Z", "", "", 403, "Invalid filter value"},
			{"sort without sign", "GET", "/checks?sort=name", "", "", 403, "Invalid sort key"},
			{"unknown sort", "GET", "/checks?sort=-colour", "", "", 403, "Invalid sort key"},
			{"bad page", "GET", "/checks?page=0", "", "", 403, "page must be a positive integer"},
			{"bad include", "GET", "/checks?include=owners", "", "", 403, "Invalid include"},
			{"bad fields", "GET", "/checks?fields[check]=colour", "", "", 403, "Invalid fields"},
			{"medium without contact", "POST", "/media", single, `{"data":{"type":"medium","attributes":{"transport":"email","address":"a@b","interval":60}}}`, 403, "Validation failed, contact is required"},
			{"medium unknown contact", "POST", "/media", single, `{"data":{"type":"medium","attributes":{"transport":"email","address":"a@b","interval":60},"relationships":{"contact":{"data":{"type":"contact","id":"` + missing + `"}}}}}`, 404, "could not find Contact record"},
			{"unknown relationship", "POST", "/contacts", single, `{"data":{"type":"contact","attributes":{"name":"x"},"relationships":{"pets":{"data":[]}}}}`, 404, "relationship"},
			{"bad ical", "POST", "/rules", single, `{"data":{"type":"rule","attributes":{"enabled":true,"blackhole":false,"strategy":"global","time_restriction_ical":"nonsense"},"relationships":{"contact":{"data":{"type":"contact","id":"` + contact + `"}}}}}`, 403, "time_restriction_ical is invalid"},
			{"no method", "POST", "/statistics", single, `{"data":{"type":"statistic"}}`, 405, "not allowed"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.do(tc.method, tc.path, tc.ctype, tc.body)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if d := errorDetail(t, r); !strings.Contains(d, tc.detail) {
					t.Errorf("detail %q, want %q", d, tc.detail)
				}
			})
		}
	})
}

func TestChecks(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		id := c.create("/checks", `{"type":"check","attributes":{"name":"app:disk","enabled":true,"initial_failure_delay":30},
			"relationships":{"tags":{"data":[{"type":"tag","id":"Prod"},{"type":"tag","id":"db"}]}}}`)
		r := c.get("/checks/" + id + "?include=tags")
		a := attrs(r.doc["data"])
		if a["name"] != "app:disk" || a["enabled"] != true || a["initial_failure_delay"] != 30.0 || a["repeat_failure_delay"] != nil || a["failing"] != false {
			t.Errorf("attributes %v", a)
		}
		if inc := r.doc["included"].([]any); len(inc) != 2 || inc[0].(map[string]any)["id"] != "db" {
			t.Errorf("included %v", inc)
		}
		rel := r.doc["data"].(map[string]any)["relationships"].(map[string]any)["tags"].(map[string]any)
		if len(rel["data"].([]any)) != 2 || rel["links"].(map[string]any)["self"] != "http://flapjack.example:3081/checks/"+id+"/relationships/tags" {
			t.Errorf("tags relationship %v", rel)
		}

		r = c.do("PATCH", "/checks/"+id, single, `{"data":{"type":"check","id":"`+id+`","attributes":{"enabled":false,"initial_failure_delay":null},
			"relationships":{"tags":{"data":[{"type":"tag","id":"staging"}]}}}}`)
		c.want(r, 204, "PATCH", "/checks/"+id)
		ch, err := st.CheckByID(context.Background(), id)
		if err != nil || ch.Enabled || ch.InitialFailureDelay != nil || len(ch.Tags) != 1 || ch.Tags[0] != "staging" {
			t.Errorf("after PATCH: %+v, %v", ch, err)
		}

		r = c.do("POST", "/checks", bulk, `{"data":[{"type":"check","attributes":{"name":"b","enabled":true}},{"type":"check","attributes":{"name":"c","enabled":false}}]}`)
		c.want(r, 201, "POST", "/checks")
		if len(data(r)) != 2 || !strings.Contains(r.header.Get("Location"), ",") {
			t.Errorf("bulk create: %s %v", r.body, r.header)
		}
		r = c.get("/checks?filter=enabled:false&sort=-name")
		if names := names(r); names != "c,app:disk" {
			t.Errorf("filtered names %q", names)
		}
		r = c.get("/checks?filter=name:/^[bc]$/&filter=enabled:yes")
		if names := names(r); names != "b" {
			t.Errorf("regex filter names %q", names)
		}
		r = c.get("/checks?fields[check]=name")
		if a := attrs(data(r)[0]); len(a) != 1 {
			t.Errorf("sparse fields %v", a)
		}
		r = c.get("/tags?include=checks")
		if n := names(r); n != "staging" {
			t.Errorf("tags %q", n)
		}

		var ids []string
		for _, o := range data(c.get("/checks?filter=name:b|c")) {
			ids = append(ids, `{"type":"check","id":"`+o.(map[string]any)["id"].(string)+`"}`)
		}
		r = c.do("DELETE", "/checks", bulk, `{"data":[`+strings.Join(ids, ",")+`]}`)
		c.want(r, 204, "DELETE", "/checks")
		r = c.do("DELETE", "/checks/"+id, "", "")
		c.want(r, 204, "DELETE", "/checks/"+id)
		if n := len(data(c.get("/checks"))); n != 0 {
			t.Errorf("%d checks left", n)
		}
	})
}

func names(r reply) string {
	var out []string
	for _, o := range r.doc["data"].([]any) {
		out = append(out, attrs(o)["name"].(string))
	}
	return strings.Join(out, ",")
}

func TestPagination(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		var objs []string
		for _, n := range []string{"a", "b", "c", "d", "e"} {
			objs = append(objs, `{"type":"contact","attributes":{"name":"`+n+`"}}`)
		}
		c.want(c.do("POST", "/contacts", bulk, `{"data":[`+strings.Join(objs, ",")+`]}`), 201, "POST", "/contacts")
		r := c.get("/contacts?sort=%2Bname&per_page=2&page=2")
		if n := names(r); n != "c,d" {
			t.Errorf("page 2 = %q", n)
		}
		links := r.doc["links"].(map[string]any)
		for _, rel := range []string{"first", "last", "prev", "next", "self"} {
			if _, ok := links[rel]; !ok {
				t.Errorf("no %s link: %v", rel, links)
			}
		}
		if !strings.Contains(links["last"].(string), "page=3") {
			t.Errorf("last = %v", links["last"])
		}
		p := r.doc["meta"].(map[string]any)["pagination"].(map[string]any)
		if p["total_count"] != 5.0 || p["total_pages"] != 3.0 || p["page"] != 2.0 || p["per_page"] != 2.0 {
			t.Errorf("pagination %v", p)
		}
		if tc := r.header.Get("Total-Count"); tc != "5" {
			t.Errorf("Total-Count %q, want the total count 5", tc)
		}
		link := r.header.Get("Link")
		if !strings.Contains(link, `>; rel="next"`) || !strings.HasPrefix(link, "<http://") {
			t.Errorf("Link %q", link)
		}
		r = c.get("/contacts?per_page=2&page=3")
		if _, ok := r.doc["links"].(map[string]any)["next"]; ok {
			t.Error("next link on the last page")
		}
		r = c.get("/contacts?per_page=9223372036854775807&page=2")
		if len(data(r)) != 0 || r.header.Get("Total-Count") != "5" {
			t.Errorf("huge per_page: %s", r.body)
		}
		r = c.get("/contacts?page=99999999999999")
		if len(data(r)) != 0 {
			t.Error("data past the last page")
		}
	})
}

func TestRouting(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		contact := c.create("/contacts", `{"type":"contact","id":"AAAAAAAA-2222-4333-8444-555555555555","attributes":{"name":"Ada","timezone":"Europe/Rome"}}`)
		if contact != "aaaaaaaa-2222-4333-8444-555555555555" {
			t.Errorf("client id not kept: %s", contact)
		}
		rel := `"relationships":{"contact":{"data":{"type":"contact","id":"` + contact + `"}}}`
		email := c.create("/media", `{"type":"medium","attributes":{"transport":"email","address":"ada@example.com","interval":300,"rollup_threshold":3},`+rel+`}`)
		for _, bad := range []string{
			`{"transport":"pagerduty","address":"x","rollup_threshold":2,"pagerduty_subdomain":"s","pagerduty_token":"t"}`,
			`{"transport":"pagerduty","address":"x"}`,
			`{"transport":"email","address":"x"}`,
			`{"transport":"pigeon","address":"x","interval":1}`,
			`{"transport":"email","address":"x","interval":-1}`,
			`{"transport":"email","address":"x","interval":1,"pagerduty_token":"t"}`,
		} {
			r := c.do("POST", "/media", single, `{"data":{"type":"medium","attributes":`+bad+`,`+rel+`}}`)
			if r.status != 403 || !strings.HasPrefix(errorDetail(t, r), "Validation failed, ") {
				t.Errorf("medium %s: %d %s", bad, r.status, r.body)
			}
		}
		c.create("/media", `{"type":"medium","attributes":{"transport":"pagerduty","address":"x","pagerduty_subdomain":"s","pagerduty_token":"t","pagerduty_ack_duration":600},`+rel+`}`)
		rule := c.create("/rules", `{"type":"rule","attributes":{"name":"nights","enabled":true,"blackhole":false,"strategy":"any_tag","conditions_list":"critical,warning",
			"time_restriction_ical":"BEGIN:VEVENT\nDTSTART:20200101T180000Z\nDURATION:PT12H\nRRULE:FREQ=DAILY\nEND:VEVENT"},
			"relationships":{"contact":{"data":{"type":"contact","id":"`+contact+`"}},"media":{"data":[{"type":"medium","id":"`+email+`"}]},"tags":{"data":[{"type":"tag","id":"db"}]}}}`)

		r := c.get("/contacts/" + contact + "?include=media,rules.media")
		if a := attrs(r.doc["data"]); a["timezone"] != "Europe/Rome" {
			t.Errorf("contact %v", a)
		}
		if inc := r.doc["included"].([]any); len(inc) != 3 {
			t.Errorf("included %d records: %s", len(inc), r.body)
		}
		r = c.get("/rules/" + rule + "?include=contact")
		if a := attrs(r.doc["data"]); a["conditions_list"] != "critical,warning" || a["strategy"] != "any_tag" {
			t.Errorf("rule %v", a)
		}
		r = c.get("/media?filter=transport:email&include=contact")
		if len(data(r)) != 1 || attrs(data(r)[0])["rollup_threshold"] != 3.0 {
			t.Errorf("media %s", r.body)
		}

		c.want(c.do("PATCH", "/rules/"+rule, single, `{"data":{"type":"rule","id":"`+rule+`","attributes":{"enabled":false,"conditions_list":null},"relationships":{"media":{"data":[]}}}}`), 204, "PATCH", "/rules")
		rt, err := st.Routing(context.Background())
		if err != nil || len(rt.Rules) != 1 || rt.Rules[0].Enabled || len(rt.Rules[0].MediaIDs) != 0 || rt.Rules[0].Conditions != nil || rt.Rules[0].Name != "nights" {
			t.Errorf("after PATCH: %+v %v", rt.Rules[0], err)
		}
		c.want(c.do("PATCH", "/media/"+email, single, `{"data":{"type":"medium","id":"`+email+`","attributes":{"interval":60}}}`), 204, "PATCH", "/media")
		if rt, _ := st.Routing(context.Background()); rt.Media[email].Interval != 60 || rt.Media[email].RollupThreshold != 3 {
			t.Errorf("medium after PATCH: %+v", rt.Media[email])
		}
		c.want(c.do("DELETE", "/contacts/"+contact, "", ""), 204, "DELETE", "/contacts")
		for _, p := range []string{"/contacts", "/media", "/rules"} {
			if n := len(data(c.get(p))); n != 0 {
				t.Errorf("%s: %d left after deleting the contact", p, n)
			}
		}
	})
}

func TestActions(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		ctx := context.Background()
		for _, name := range []string{"a", "b", "c"} {
			_, err := st.UpdateCheck(ctx, name, true, func(u *store.CheckUpdate) error {
				u.Check.Enabled = name != "c"
				u.Check.Failing = name != "b"
				u.Check.Condition = flapjack.Critical
				u.Check.Tags = []string{"db"}
				u.Check.CurrentState = &flapjack.State{UpdatedAt: time.Now()}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		a, _ := st.Check(ctx, "a")
		r := c.do("POST", "/acknowledgements", single, `{"data":{"type":"acknowledgement","attributes":{"duration":600,"summary":"on it"},"relationships":{"tag":{"data":{"type":"tag","id":"db"}}}}}`)
		c.want(r, 201, "POST", "/acknowledgements")
		got := queued(t, st.Queue("events"))
		if len(got) != 1 || !strings.Contains(got[0], `"acknowledgement"`) || !strings.Contains(got[0], a.AckHash) {
			t.Errorf("acknowledgement events %q", got)
		}
		r = c.do("POST", "/test_notifications", single, `{"data":{"type":"test_notification","attributes":{"condition":"warning"},"relationships":{"check":{"data":{"type":"check","id":"`+a.ID+`"}}}}}`)
		c.want(r, 201, "POST", "/test_notifications")
		if got := queued(t, st.Queue("events")); len(got) != 1 || !strings.Contains(got[0], "test_notifications warning") {
			t.Errorf("test notification events %q", got)
		}
		r = c.do("POST", "/acknowledgements", single, `{"data":{"type":"acknowledgement","attributes":{}}}`)
		if r.status != 403 {
			t.Errorf("acknowledgement without target: %d", r.status)
		}

		r = c.do("GET", "/metrics", "", "")
		c.want(r, 200, "GET", "/metrics")
		m := attrs(r.doc["data"])
		if cc := m["check_counts"].(map[string]any); cc["all"] != 3.0 || cc["enabled"] != 2.0 || cc["failing"] != 2.0 {
			t.Errorf("check_counts %v", cc)
		}
		if f := m["check_freshness"].(map[string]any); f["0"] != 2.0 {
			t.Errorf("check_freshness %v", f)
		}
		if err := st.AddStatistics(ctx, "host:1", time.Now(), flapjack.Statistics{AllEvents: 4}); err != nil {
			t.Fatal(err)
		}
		r = c.get("/statistics?filter=instance_name:global")
		if d := data(r); len(d) != 1 || attrs(d[0])["all_events"] != 4.0 {
			t.Errorf("statistics %s", r.body)
		}
	})
}

func TestMetricsSharesPathWithPrometheus(t *testing.T) {
	prom := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "# prometheus\n") })
	h := api.Handler(memory.New(), api.Options{Prometheus: prom})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.HasPrefix(rec.Body.String(), "# prometheus") {
		t.Errorf("scraper got %q", rec.Body.String())
	}
	rec = httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/vnd.api+json")
	h.ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"type":"metrics"`) {
		t.Errorf("JSON:API client got %q", rec.Body.String())
	}
}

func TestEventsStillServed(t *testing.T) {
	st := memory.New()
	rec := post(t, api.Handler(st, api.Options{}), `{"check":"x","state":"ok"}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /events: %d %s", rec.Code, rec.Body)
	}
}

func FuzzRequests(f *testing.F) {
	for _, s := range [][3]string{
		{"POST", "/checks", `{"data":{"type":"check","attributes":{"name":"x","enabled":true}}}`},
		{"POST", "/media", `{"data":[{"type":"medium","relationships":{"contact":{"data":null}}}]}`},
		{"PATCH", "/rules", `{"data":[{"type":"rule","id":"x"}]}`},
		{"GET", "/checks?filter=name:/a|b/&sort=-name&include=tags&fields[check]=name&page=2&per_page=1", ""},
		{"GET", "/statistics?filter=created_at:..2020-01-01T00:00:00Z", ""},
		{"DELETE", "/contacts", `{"data":[{"type":"contact"}]}`},
		{"POST", "/acknowledgements", `{"data":{"type":"acknowledgement","relationships":{"tag":{"data":{"type":"tag","id":"x"}}}}}`},
		{"POST", "/checks/x/relationships/tags", `{"data":[{"type":"tag","id":"y"}]}`},
		{"GET", "/checks?include=current_state,alerting_media,contacts.rules.media", ""},
		{"POST", "/scheduled_maintenances", `{"data":{"type":"scheduled_maintenance","attributes":{"start_time":"2030-01-01T00:00:00Z","end_time":"2031-01-01T00:00:00Z"},"relationships":{"tag":{"data":{"type":"tag","id":"x"}}}}}`},
		{"GET", "/states?filter=created_at:2020-01-01T00:00:00Z..&sort=-created_at", ""},
	} {
		f.Add(s[0], s[1], s[2], true)
		f.Add(s[0], s[1], s[2], false)
	}
	st := memory.New()
	h := api.Handler(st, api.Options{})
	ctx := context.Background()
	st.PutContact(ctx, flapjack.Contact{ID: "c1", Name: "c"})
	st.UpdateCheck(ctx, "x", true, func(u *store.CheckUpdate) error { u.Check.Tags = []string{"x"}; u.Check.Failing = true; return nil })
	f.Fuzz(func(t *testing.T, method, target, body string, bulkHeader bool) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest(method, "http://h"+target, strings.NewReader(body))
		if err != nil || req.URL.Path == "/events" {
			return
		}
		ct := single
		if bulkHeader {
			ct = bulk
		}
		req.Header.Set("Content-Type", ct)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, rec.Body)
		}
	})
}

func TestRelationshipEndpoints(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		check := c.create("/checks", `{"type":"check","attributes":{"name":"db:load","enabled":true}}`)
		path := "/checks/" + check + "/relationships/tags"
		link := func(method, body string, status int) {
			t.Helper()
			r := c.do(method, path, single, body)
			if r.status != status {
				t.Fatalf("%s %s %s: %d %s", method, path, body, r.status, r.body)
			}
		}
		link("POST", `{"data":[{"type":"tag","id":"db"},{"type":"tag","id":"prod"}]}`, 204)
		link("DELETE", `{"data":[{"type":"tag","id":"prod"}]}`, 204)
		link("POST", `{"data":[{"type":"tag","id":"eu"}]}`, 204)
		r := c.get(path)
		if d := data(r); len(d) != 2 || d[0].(map[string]any)["id"] != "db" || d[1].(map[string]any)["id"] != "eu" {
			t.Errorf("tags linkage %s", r.body)
		}
		r = c.get(path + "?per_page=1&page=2")
		if d := data(r); len(d) != 1 || d[0].(map[string]any)["id"] != "eu" || r.header.Get("Total-Count") != "2" {
			t.Errorf("tags linkage page 2 %s", r.body)
		}
		link("PATCH", `{"data":[{"type":"tag","id":"x"}]}`, 204)
		if r := c.get("/checks/" + check + "/tags?include=tags"); len(r.doc["included"].([]any)) != 1 {
			t.Errorf("related tags %s", r.body)
		}
		link("POST", `{"data":[{"type":"medium","id":"x"}]}`, 403)
		link("POST", `{"data":[]}`, 403)
		if r := c.do("POST", "/checks/"+check+"/relationships/states", single, `{"data":[]}`); r.status != 404 {
			t.Errorf("write to a read-only relationship: %d", r.status)
		}
		if r := c.do("GET", "/checks/"+check+"/relationships/owners", "", ""); r.status != 404 {
			t.Errorf("unknown relationship: %d", r.status)
		}
		r = c.get("/checks/" + check + "/relationships/current_state")
		if r.doc["data"] != nil {
			t.Errorf("current_state of a check without state: %s", r.body)
		}

		contact := c.create("/contacts", `{"type":"contact","attributes":{"name":"Ada"}}`)
		rel := `"relationships":{"contact":{"data":{"type":"contact","id":"` + contact + `"}}}`
		medium := c.create("/media", `{"type":"medium","attributes":{"transport":"email","address":"a@b","interval":60},`+rel+`}`)
		rule := c.create("/rules", `{"type":"rule","attributes":{"enabled":true,"blackhole":false,"strategy":"global"},`+rel+`}`)
		r = c.do("POST", "/rules/"+rule+"/relationships/media", single, `{"data":[{"type":"medium","id":"`+medium+`"}]}`)
		c.want(r, 204, "POST", "/rules/media")

		// The check now alerts the medium when it fails.
		if _, err := st.UpdateCheck(context.Background(), "db:load", false, func(u *store.CheckUpdate) error {
			u.Check.Condition, u.Check.Failing = flapjack.Critical, true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		r = c.get("/checks/" + check + "?include=alerting_media,contacts")
		if inc, _ := r.doc["included"].([]any); len(inc) != 2 {
			t.Errorf("alerting media and contacts: %s", r.body)
		}
		if r := c.get("/media/" + medium + "/relationships/rules"); len(data(r)) != 1 {
			t.Errorf("medium rules %s", r.body)
		}
		r = c.do("DELETE", "/media/"+medium+"/relationships/rules", single, `{"data":[{"type":"rule","id":"`+rule+`"}]}`)
		c.want(r, 204, "DELETE", "/media/rules")
		if r := c.get("/rules/" + rule + "/relationships/media"); len(data(r)) != 0 {
			t.Errorf("rule media after unlinking %s", r.body)
		}
		r = c.do("PATCH", "/media/"+medium+"/relationships/rules", single, `{"data":[{"type":"rule","id":"`+rule+`"}]}`)
		c.want(r, 204, "PATCH", "/media/rules")
		if r := c.get("/contacts/" + contact + "/relationships/checks"); len(data(r)) != 1 {
			t.Errorf("contact checks %s", r.body)
		}
		if r := c.get("/media/" + medium + "/relationships/alerting_checks"); len(data(r)) != 0 {
			t.Errorf("alerting checks of a medium before any problem %s", r.body)
		}
		if _, err := st.UpdateCheck(context.Background(), "db:load", false, func(u *store.CheckUpdate) error {
			u.Check.Alertable = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if r := c.get("/media/" + medium + "/relationships/alerting_checks"); len(data(r)) != 1 {
			t.Errorf("alerting checks of a medium %s", r.body)
		}
	})
}

func TestMaintenancesAndStates(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		ctx := context.Background()
		t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		for _, name := range []string{"a", "b"} {
			if _, err := st.UpdateCheck(ctx, name, true, func(u *store.CheckUpdate) error {
				u.Check.Enabled, u.Check.Tags = true, []string{"web"}
				s := flapjack.State{CreatedAt: t0, UpdatedAt: t0, Condition: flapjack.Critical, Summary: "down"}
				u.Check.CurrentState = &s
				u.History = append(u.History, s)
				u.Check.UnscheduledMaintenances = []flapjack.Maintenance{{ID: "ack-" + name, Start: t0, End: t0.Add(time.Hour)}}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := st.Check(ctx, "a")
		id := c.create("/scheduled_maintenances", `{"type":"scheduled_maintenance","attributes":{"start_time":"2030-01-01T00:00:00Z","end_time":"2030-01-01T02:00:00+01:00","summary":"upgrade"},
			"relationships":{"check":{"data":{"type":"check","id":"`+a.ID+`"}}}}`)
		r := c.do("POST", "/scheduled_maintenances", single, `{"data":{"type":"scheduled_maintenance","attributes":{"start_time":"2030-01-01T00:00:00Z","end_time":"2030-01-01T00:00:00Z"},
			"relationships":{"check":{"data":{"type":"check","id":"`+a.ID+`"}}}}}`)
		if r.status != 403 || !strings.Contains(errorDetail(t, r), "end_time must be after start_time") {
			t.Errorf("empty window: %d %s", r.status, r.body)
		}
		r = c.do("POST", "/scheduled_maintenances", single, `{"data":{"type":"scheduled_maintenance","attributes":{"start_time":"2031-01-01T00:00:00Z","end_time":"2031-01-02T00:00:00Z"},
			"relationships":{"tag":{"data":{"type":"tag","id":"web"}}}}}`)
		c.want(r, 201, "POST", "/scheduled_maintenances")
		r = c.get("/scheduled_maintenances?filter=start_time:2030-06-01T00:00:00Z..&include=check")
		if len(data(r)) != 2 || len(r.doc["included"].([]any)) != 2 {
			t.Errorf("maintenances by tag %s", r.body)
		}
		r = c.get("/scheduled_maintenances/" + id)
		if a := attrs(r.doc["data"]); a["end_time"] != "2030-01-01T01:00:00Z" || a["summary"] != "upgrade" {
			t.Errorf("maintenance %v", a)
		}
		c.want(c.do("PATCH", "/scheduled_maintenances/"+id, single, `{"data":{"type":"scheduled_maintenance","id":"`+id+`","attributes":{"summary":"longer","end_time":"2030-01-01T03:00:00Z"}}}`), 204, "PATCH", "/scheduled_maintenances")
		if ch, _ := st.Check(ctx, "a"); len(ch.ScheduledMaintenances) != 2 || ch.ScheduledMaintenances[0].Summary != "longer" || !ch.ScheduledMaintenances[0].End.Equal(time.Date(2030, 1, 1, 3, 0, 0, 0, time.UTC)) {
			t.Errorf("after PATCH: %+v", ch.ScheduledMaintenances)
		}
		c.want(c.do("DELETE", "/scheduled_maintenances/"+id, "", ""), 204, "DELETE", "/scheduled_maintenances")
		if ch, _ := st.Check(ctx, "a"); len(ch.ScheduledMaintenances) != 1 {
			t.Errorf("after DELETE: %+v", ch.ScheduledMaintenances)
		}

		c.want(c.do("PATCH", "/unscheduled_maintenances/ack-a", single, `{"data":{"type":"unscheduled_maintenance","id":"ack-a","attributes":{"end_time":"2025-06-01T12:30:00Z"}}}`), 204, "PATCH", "/unscheduled_maintenances")
		if ch, _ := st.Check(ctx, "a"); !ch.UnscheduledMaintenances[0].End.Equal(t0.Add(30 * time.Minute)) {
			t.Errorf("acknowledgement not ended: %+v", ch.UnscheduledMaintenances)
		}
		if r := c.do("POST", "/unscheduled_maintenances", single, `{"data":{"type":"unscheduled_maintenance"}}`); r.status != 405 {
			t.Errorf("POST unscheduled maintenance: %d", r.status)
		}

		r = c.get("/states?filter=created_at:2025-06-01T00:00:00Z..2025-06-02T00:00:00Z&filter=condition:critical&include=check")
		if len(data(r)) != 2 || attrs(data(r)[0])["summary"] != "down" {
			t.Errorf("states %s", r.body)
		}
		r = c.get("/checks/" + a.ID + "?include=current_state")
		inc := r.doc["included"].([]any)
		if len(inc) != 1 || inc[0].(map[string]any)["type"] != "state" {
			t.Errorf("current_state %s", r.body)
		}
		stateID := inc[0].(map[string]any)["id"].(string)
		if r := c.get("/states/" + stateID); attrs(r.doc["data"])["created_at"] != "2025-06-01T12:00:00Z" {
			t.Errorf("state by id %s", r.body)
		}
		if r := c.get("/checks/" + a.ID + "/relationships/states"); len(data(r)) != 1 {
			t.Errorf("states linkage %s", r.body)
		}
	})
}

// brokenStore panics on one call and fails another, as a store with a bug or an
// outage would.
type brokenStore struct{ store.Store }

func (brokenStore) QueryChecks(context.Context, store.CheckQuery) ([]flapjack.Check, error) {
	panic("bug")
}

func (brokenStore) Routing(context.Context) (*store.Routing, error) {
	return nil, errors.New("secret connection string refused")
}

func TestInternalErrors(t *testing.T) {
	c := newClient(t, brokenStore{memory.New()})
	for _, path := range []string{"/checks", "/contacts"} {
		r := c.do("GET", path, "", "")
		if r.status != 500 || errorDetail(t, r) != "internal error" {
			t.Errorf("GET %s: %d %s", path, r.status, r.body)
		}
	}
}

func TestTags(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		a := c.create("/checks", `{"type":"check","attributes":{"name":"a","enabled":true}}`)
		b := c.create("/checks", `{"type":"check","attributes":{"name":"b","enabled":true}}`)
		contact := c.create("/contacts", `{"type":"contact","attributes":{"name":"Ada"}}`)
		rule := c.create("/rules", `{"type":"rule","attributes":{"enabled":true,"blackhole":false,"strategy":"any_tag"},"relationships":{"contact":{"data":{"type":"contact","id":"`+contact+`"}}}}`)
		id := c.create("/tags", `{"type":"tag","attributes":{"name":"Prod"},"relationships":{"checks":{"data":[{"type":"check","id":"`+a+`"}]},"rules":{"data":[{"type":"rule","id":"`+rule+`"}]}}}`)
		if id != "prod" {
			t.Errorf("tag id %q", id)
		}
		for _, bad := range []struct {
			body   string
			status int
		}{
			{`{"type":"tag","attributes":{"name":"has space"},"relationships":{"checks":{"data":[{"type":"check","id":"` + a + `"}]}}}`, 403},
			{`{"type":"tag","attributes":{"name":"lonely"}}`, 403},
			{`{"type":"tag","attributes":{"name":"prod"},"relationships":{"checks":{"data":[{"type":"check","id":"` + b + `"}]}}}`, 409},
		} {
			if r := c.do("POST", "/tags", single, `{"data":`+bad.body+`}`); r.status != bad.status {
				t.Errorf("POST /tags %s: %d %s", bad.body, r.status, r.body)
			}
		}
		r := c.do("POST", "/tags/prod/relationships/checks", single, `{"data":[{"type":"check","id":"`+b+`"}]}`)
		c.want(r, 204, "POST", "/tags/prod/relationships/checks")
		if r := c.get("/tags/prod?include=checks,rules"); len(r.doc["included"].([]any)) != 3 {
			t.Errorf("tag with checks and rules %s", r.body)
		}
		c.want(c.do("DELETE", "/tags/prod", "", ""), 204, "DELETE", "/tags/prod")
		if ch, _ := st.CheckByID(context.Background(), b); len(ch.Tags) != 0 {
			t.Errorf("tags left on check: %v", ch.Tags)
		}
		if rt, _ := st.Routing(context.Background()); len(rt.Rules[0].Tags) != 0 {
			t.Errorf("tags left on rule: %v", rt.Rules[0].Tags)
		}
		if n := len(data(c.get("/tags"))); n != 0 {
			t.Errorf("%d tags left", n)
		}
	})
}
