package api_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// ids lists the ids of a reply's data.
func ids(r reply) []string {
	var out []string
	for _, o := range data(r) {
		out = append(out, o.(map[string]any)["id"].(string))
	}
	return out
}

// includedIDs lists the ids of a reply's included records.
func includedIDs(r reply) []string {
	var out []string
	inc, _ := r.doc["included"].([]any)
	for _, o := range inc {
		out = append(out, o.(map[string]any)["id"].(string))
	}
	return out
}

func linkBody(typ string, ids ...string) string {
	var objs []string
	for _, id := range ids {
		objs = append(objs, `{"type":"`+typ+`","id":"`+id+`"}`)
	}
	return `{"data":[` + strings.Join(objs, ",") + `]}`
}

// TestContactTags: a contact's tags are written and read like a check's, from
// the contact and from the tag, and are kept by the store.
func TestContactTags(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		ada := c.create("/contacts", `{"type":"contact","attributes":{"name":"Ada"},
			"relationships":{"tags":{"data":[{"type":"tag","id":"Ops"},{"type":"tag","id":"db"},{"type":"tag","id":"ops"}]}}}`)
		bob := c.create("/contacts", `{"type":"contact","attributes":{"name":"Bob"}}`)
		stored := func(id string) []string {
			t.Helper()
			rt, err := st.Routing(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return rt.Contacts[id].Tags
		}
		if got := stored(ada); !slices.Equal(got, []string{"db", "ops"}) {
			t.Fatalf("stored tags of a new contact %q, want [db ops]", got)
		}
		r := c.get("/contacts/" + ada + "?include=tags")
		if got := includedIDs(r); !slices.Equal(got, []string{"db", "ops"}) {
			t.Errorf("included tags %q: %s", got, r.body)
		}

		steps := []struct {
			name, method, path, body string
			status                   int
			ada, bob                 []string // the tags each contact has afterwards
		}{
			{"add to a contact", "POST", "/contacts/" + ada + "/relationships/tags", linkBody("tag", "EU"), 204, []string{"db", "eu", "ops"}, nil},
			{"remove from a contact", "DELETE", "/contacts/" + ada + "/relationships/tags", linkBody("tag", "db"), 204, []string{"eu", "ops"}, nil},
			{"replace a contact's", "PATCH", "/contacts/" + ada + "/relationships/tags", linkBody("tag", "ops", "pager"), 204, []string{"ops", "pager"}, nil},
			{"invalid name", "POST", "/contacts/" + ada + "/relationships/tags", linkBody("tag", "no space"), 403, []string{"ops", "pager"}, nil},
			{"wrong type", "POST", "/contacts/" + ada + "/relationships/tags", linkBody("check", "ops"), 403, []string{"ops", "pager"}, nil},
			{"add contacts to a tag", "POST", "/tags/ops/relationships/contacts", linkBody("contact", bob), 204, []string{"ops", "pager"}, []string{"ops"}},
			{"unknown contact", "POST", "/tags/ops/relationships/contacts", linkBody("contact", "nobody"), 404, []string{"ops", "pager"}, []string{"ops"}},
			{"remove a contact from a tag", "DELETE", "/tags/ops/relationships/contacts", linkBody("contact", ada), 204, []string{"pager"}, []string{"ops"}},
			{"replace a tag's contacts", "PATCH", "/tags/pager/relationships/contacts", linkBody("contact", bob), 204, nil, []string{"ops", "pager"}},
			{"PATCH the contact", "PATCH", "/contacts/" + ada, `{"data":{"type":"contact","id":"` + ada + `","relationships":{"tags":` + linkBody("tag", "night") + `}}}`, 204, []string{"night"}, []string{"ops", "pager"}},
			{"create a tag on contacts", "POST", "/tags", `{"data":{"type":"tag","attributes":{"name":"new"},"relationships":{"contacts":` + linkBody("contact", ada, bob) + `}}}`, 201, []string{"new", "night"}, []string{"new", "ops", "pager"}},
			{"delete a tag", "DELETE", "/tags/new", "", 204, []string{"night"}, []string{"ops", "pager"}},
		}
		for _, s := range steps {
			ctype := single
			if s.body == "" {
				ctype = ""
			}
			r := c.do(s.method, s.path, ctype, s.body)
			if r.status != s.status {
				t.Fatalf("%s: %s %s: %d, want %d: %s", s.name, s.method, s.path, r.status, s.status, r.body)
			}
			for _, who := range []struct {
				id   string
				want []string
			}{{ada, s.ada}, {bob, s.bob}} {
				if got := stored(who.id); !slices.Equal(got, who.want) {
					t.Errorf("%s: stored tags %q, want %q", s.name, got, who.want)
				}
				r := c.get("/contacts/" + who.id + "/relationships/tags")
				if got := ids(r); !slices.Equal(got, who.want) {
					t.Errorf("%s: tags linkage %q, want %q", s.name, got, who.want)
				}
			}
		}
		r = c.get("/tags/ops?include=contacts")
		if got := includedIDs(r); !slices.Equal(got, []string{bob}) {
			t.Errorf("a tag only a contact carries: included %q: %s", got, r.body)
		}
		r = c.get("/tags")
		if got := ids(r); !slices.Equal(got, []string{"night", "ops", "pager"}) {
			t.Errorf("tags %q", got)
		}
		if r := c.do("POST", "/tags", single, `{"data":{"type":"tag","attributes":{"name":"lonely"}}}`); r.status != 403 ||
			!strings.Contains(errorDetail(t, r), "at least one check, contact or rule") {
			t.Errorf("a tag on nothing: %d %s", r.status, r.body)
		}
	})
}

// TestCheckLatestNotifications: a check's latest notifications are states,
// the newest first; one made from a change of condition is the history's
// state of that time, the others are states of their own.
func TestCheckLatestNotifications(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		warning := flapjack.State{CreatedAt: t0, UpdatedAt: t0, Condition: flapjack.Warning, Summary: "slow"}
		critical := flapjack.State{CreatedAt: t0.Add(time.Minute), UpdatedAt: t0.Add(5 * time.Minute), Condition: flapjack.Critical, Summary: "down"}
		ack := flapjack.State{CreatedAt: t0.Add(2 * time.Minute), UpdatedAt: t0.Add(2 * time.Minute), Condition: flapjack.Critical, Action: flapjack.Acknowledgement, Summary: "on it"}
		repeat := flapjack.State{CreatedAt: t0.Add(3 * time.Minute), UpdatedAt: t0.Add(3 * time.Minute), Condition: flapjack.Critical, Summary: "still down"}
		if _, err := st.UpdateCheck(context.Background(), "db:load", true, func(u *store.CheckUpdate) error {
			u.Check.Condition, u.Check.Failing = flapjack.Critical, true
			u.History = []flapjack.State{warning, critical}
			cur := critical
			u.Check.CurrentState = &cur
			u.Check.LatestNotifications = []flapjack.State{warning, ack, repeat}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		check, err := st.Check(context.Background(), "db:load")
		if err != nil {
			t.Fatal(err)
		}
		history := ids(c.get("/checks/" + check.ID + "/relationships/states")) // critical, warning

		r := c.get("/checks/" + check.ID + "?include=latest_notifications")
		rel := r.doc["data"].(map[string]any)["relationships"].(map[string]any)["latest_notifications"].(map[string]any)
		var linked []string
		for _, l := range rel["data"].([]any) {
			linked = append(linked, l.(map[string]any)["id"].(string))
		}
		if len(linked) != 3 || linked[2] != history[1] || slices.Contains(history, linked[0]) || slices.Contains(history, linked[1]) {
			t.Fatalf("latest_notifications %q; history %q: want the repeat, the acknowledgement, then the history's warning", linked, history)
		}
		byID := map[string]map[string]any{}
		for _, o := range r.doc["included"].([]any) {
			byID[o.(map[string]any)["id"].(string)] = attrs(o)
		}
		for i, want := range []struct{ summary, action, created string }{
			{"still down", "", "2025-06-01T12:03:00Z"},
			{"on it", "acknowledgement", "2025-06-01T12:02:00Z"},
			{"slow", "", "2025-06-01T12:00:00Z"},
		} {
			a := byID[linked[i]]
			action, _ := a["action"].(string)
			if a == nil || a["summary"] != want.summary || action != want.action || a["created_at"] != want.created {
				t.Errorf("included notification %d: %v, want %+v", i, a, want)
			}
		}
		// The notification states are states like the others.
		r = c.get("/states/" + linked[1] + "?include=check")
		if a := attrs(r.doc["data"]); a["action"] != "acknowledgement" || includedIDs(r)[0] != check.ID {
			t.Errorf("acknowledgement state %s", r.body)
		}
		if got := ids(c.get("/checks/" + check.ID + "/latest_notifications")); !slices.Equal(got, linked) {
			t.Errorf("related latest notifications %q, want %q", got, linked)
		}
		if n := len(data(c.get("/states"))); n != 4 {
			t.Errorf("%d states, want the 2 of the history and the 2 notifications of their own", n)
		}
	})
}

// TestTagAggregates: a tag's states and maintenances are those of the checks
// carrying it, the newest first.
func TestTagAggregates(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
		window := func(id string, start int) flapjack.Maintenance {
			return flapjack.Maintenance{ID: id, Start: at(start), End: at(start + 30)}
		}
		type fixture struct {
			name, tag   string
			states      []int // minutes after t0
			sched, ack  []flapjack.Maintenance
			stateIDs    []string
			checkRecord flapjack.Check
		}
		checks := []*fixture{
			{name: "a", tag: "web", states: []int{0, 20}, sched: []flapjack.Maintenance{window("s1", 10), window("s3", 30)}, ack: []flapjack.Maintenance{window("u2", 15)}},
			{name: "b", tag: "web", states: []int{10}, sched: []flapjack.Maintenance{window("s2", 20)}, ack: []flapjack.Maintenance{window("u1", 5), window("u3", 25)}},
			{name: "c", tag: "db", states: []int{30}, sched: []flapjack.Maintenance{window("s9", 40)}},
		}
		for _, f := range checks {
			if _, err := st.UpdateCheck(context.Background(), f.name, true, func(u *store.CheckUpdate) error {
				u.Check.Tags = []string{f.tag}
				for i, m := range f.states {
					u.History = append(u.History, flapjack.State{CreatedAt: at(m), UpdatedAt: at(m), Condition: []flapjack.Condition{flapjack.Critical, flapjack.OK}[i%2]})
				}
				u.Check.ScheduledMaintenances, u.Check.UnscheduledMaintenances = f.sched, f.ack
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			ch, err := st.Check(context.Background(), f.name)
			if err != nil {
				t.Fatal(err)
			}
			f.stateIDs = ids(c.get("/checks/" + ch.ID + "/relationships/states")) // newest first
		}
		a, b := checks[0], checks[1]
		cases := []struct {
			path string
			want []string
		}{
			{"/tags/web/relationships/scheduled_maintenances", []string{"s3", "s2", "s1"}},
			{"/tags/web/relationships/unscheduled_maintenances", []string{"u3", "u2", "u1"}},
			{"/tags/web/relationships/states", []string{a.stateIDs[0], b.stateIDs[0], a.stateIDs[1]}},
			{"/tags/web/states", []string{a.stateIDs[0], b.stateIDs[0], a.stateIDs[1]}},
			{"/tags/web/relationships/states?per_page=2&page=2", []string{a.stateIDs[1]}},
			{"/tags/db/relationships/scheduled_maintenances", []string{"s9"}},
		}
		for _, tc := range cases {
			if got := ids(c.get(tc.path)); !slices.Equal(got, tc.want) {
				t.Errorf("GET %s: %q, want %q", tc.path, got, tc.want)
			}
		}
		for _, rel := range []string{"states", "scheduled_maintenances", "unscheduled_maintenances"} {
			path := "/tags/web/relationships/" + rel
			if r := c.do("POST", path, single, linkBody("state", "x")); r.status != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404 (read-only)", path, r.status)
			}
			if r := c.do("GET", "/tags/web?include="+rel, "", ""); r.status != http.StatusForbidden {
				t.Errorf("include %s: %d, want 403", rel, r.status)
			}
		}
	})
}

// TestRelationshipFilters: a relationship GET filters the related records by
// "<rel>.<attr>:<value>", with the values of a collection's filters.
func TestRelationshipFilters(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		conds := []flapjack.Condition{flapjack.Critical, flapjack.OK, flapjack.Warning, flapjack.Critical}
		summaries := []string{"disk full", "fine", "disk filling", "dead"}
		for _, name := range []string{"a", "b", "c"} {
			if _, err := st.UpdateCheck(context.Background(), name, true, func(u *store.CheckUpdate) error {
				u.Check.Tags = []string{"web"}
				u.Check.Failing = name != "b"
				if name == "a" {
					for i, cond := range conds {
						ts := t0.Add(time.Duration(i) * time.Hour)
						u.History = append(u.History, flapjack.State{CreatedAt: ts, UpdatedAt: ts, Condition: cond, Summary: summaries[i]})
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := st.Check(context.Background(), "a")
		b, _ := st.Check(context.Background(), "b")
		cc, _ := st.Check(context.Background(), "c")
		states := ids(c.get("/checks/" + a.ID + "/relationships/states")) // newest first: dead, disk filling, fine, disk full
		base := "/checks/" + a.ID + "/relationships/states"
		cases := []struct {
			name, path string
			want       []string
		}{
			{"exact", base + "?filter=states.condition:critical", []string{states[0], states[3]}},
			{"any of", base + "?filter=states.condition:warning|ok", []string{states[1], states[2]}},
			{"regex", base + "?filter=states.summary:/^disk/", []string{states[1], states[3]}},
			{"two filters", base + "?filter=states.summary:/^disk/&filter[]=states.condition:critical", []string{states[3]}},
			{"range", base + "?filter=states.created_at:2025-06-01T13:00:00Z..2025-06-01T14:00:00Z", []string{states[1], states[2]}},
			{"open range", base + "?filter=states.created_at:2025-06-01T14:00:00Z..", []string{states[0], states[1]}},
			{"related path", "/checks/" + a.ID + "/states?filter=states.condition:critical", []string{states[0], states[3]}},
			{"paginated after filtering", base + "?filter=states.condition:critical&per_page=1&page=2", []string{states[3]}},
			{"tag checks", "/tags/web/relationships/checks?filter=checks.failing:true", []string{a.ID, cc.ID}},
			{"tag checks by name", "/tags/web/relationships/checks?filter=checks.name:b", []string{b.ID}},
			{"nothing matches", base + "?filter=states.condition:unknown", nil},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := c.get(tc.path)
				if got := ids(r); !slices.Equal(got, tc.want) {
					t.Errorf("GET %s: %q, want %q", tc.path, got, tc.want)
				}
				if strings.Contains(tc.path, "relationships") && r.header.Get("Total-Count") == "" {
					t.Errorf("no Total-Count")
				}
			})
		}
		r := c.get(base + "?filter=states.condition:critical&per_page=1")
		if r.header.Get("Total-Count") != "2" {
			t.Errorf("Total-Count %q, want the 2 filtered states", r.header.Get("Total-Count"))
		}
		r = c.get("/tags/web/checks?filter=checks.failing:false&include=checks")
		if got := includedIDs(r); !slices.Equal(got, []string{b.ID}) {
			t.Errorf("included %q", got)
		}

		bad := []struct {
			name, path, detail string
		}{
			{"no relationship", base + "?filter=condition:critical", `Invalid filter key: "condition"`},
			{"another relationship", base + "?filter=checks.failing:true", `Invalid filter key: "checks.failing"`},
			{"unknown attribute", base + "?filter=states.colour:red", `Invalid filter key: "colour"`},
			{"unfilterable attribute", base + "?filter=states.perfdata:x", `Invalid filter key: "perfdata"`},
			{"bad value", base + "?filter=states.created_at:yesterday", "Invalid filter value"},
			{"reversed range", base + "?filter=states.created_at:2025-06-02T00:00:00Z..2025-06-01T00:00:00Z", "Invalid filter value"},
			{"bad regex", "/tags/web/relationships/checks?filter=checks.name:/(/", "Invalid filter value"},
			{"bad boolean", "/tags/web/relationships/checks?filter=checks.failing:maybe", "Invalid filter value"},
		}
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				r := c.do("GET", tc.path, "", "")
				if r.status != http.StatusForbidden || !strings.Contains(errorDetail(t, r), tc.detail) {
					t.Errorf("GET %s: %d %s, want 403 with %q", tc.path, r.status, r.body, tc.detail)
				}
			})
		}
	})
}

// plainStore is a store that does not count its keys.
type plainStore struct{ store.Store }

func TestMetricsTotalKeys(t *testing.T) {
	st := memory.New()
	defer st.Close()
	if _, err := st.UpdateCheck(context.Background(), "a", true, func(*store.CheckUpdate) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := st.PutContact(context.Background(), flapjack.Contact{ID: "c1", Name: "Ada"}); err != nil {
		t.Fatal(err)
	}
	want, err := st.KeyCount(context.Background())
	if err != nil || want < 2 {
		t.Fatalf("KeyCount = %d, %v", want, err)
	}
	cases := []struct {
		name   string
		st     store.Store
		path   string
		status int
		keys   any // the total_keys attribute; nil when absent
	}{
		{"counting store", st, "/metrics", 200, float64(want)},
		{"only total_keys", st, "/metrics?fields=total_keys", 200, float64(want)},
		{"store without a count", plainStore{st}, "/metrics", 200, nil},
		{"asked of a store without a count", plainStore{st}, "/metrics?fields=total_keys", 403, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{t: t, h: api.Handler(tc.st, api.Options{})}
			r := c.do("GET", tc.path, "", "")
			c.want(r, tc.status, "GET", tc.path)
			if tc.status != 200 {
				return
			}
			a := attrs(r.doc["data"])
			if got, ok := a["total_keys"]; got != tc.keys || ok != (tc.keys != nil) {
				t.Errorf("total_keys %v (present %t), want %v", got, ok, tc.keys)
			}
			if strings.Contains(tc.path, "fields=") && len(a) != 1 {
				t.Errorf("attributes %v, want total_keys only", a)
			}
		})
	}
}
