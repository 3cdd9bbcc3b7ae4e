package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/api/client"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// setup serves the API over a fresh memory store.
func setup(t *testing.T) (*client.Client, *memory.Store) {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewServer(api.Handler(st, api.Options{}))
	t.Cleanup(srv.Close)
	return client.New(srv.URL, client.WithHTTPClient(srv.Client())), st
}

// wantErr checks that err is an *client.Error with status and a detail
// containing detail.
func wantErr(t *testing.T, err error, status int, detail string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *client.Error %d", err, err, status)
	}
	if e.Status != status || !slices.ContainsFunc(e.Details, func(d string) bool { return strings.Contains(d, detail) }) {
		t.Fatalf("error %d %q, want %d with %q", e.Status, e.Details, status, detail)
	}
}

// must returns v, failing the test binary on err: the calls it wraps are
// expected to succeed.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// queued takes every payload waiting on the events queue.
func queued(t *testing.T, q store.Queue) []string {
	t.Helper()
	items, err := q.Reserve(context.Background(), 100, false)
	ok(t, err)
	ok(t, q.Ack(context.Background(), items...))
	var out []string
	for _, it := range items {
		out = append(out, string(it.Payload))
	}
	return out
}

func TestContactsMediaRules(t *testing.T) {
	c, _ := setup(t)
	ctx := t.Context()

	contact := must(c.Contacts.Create(ctx, &client.Contact{Name: "Ada", Timezone: "Europe/Rome"}))
	if contact.ID == "" || contact.Name != "Ada" || contact.Timezone != "Europe/Rome" {
		t.Fatalf("created %+v", contact)
	}
	medium := must(c.Media.Create(ctx, &client.Medium{ContactID: contact.ID, Transport: "email", Address: "ada@example.com", Interval: 600}))
	if medium.Transport != "email" || medium.Interval != 600 {
		t.Fatalf("created %+v", medium)
	}
	rule := must(c.Rules.Create(ctx, &client.Rule{ContactID: contact.ID, MediaIDs: []string{medium.ID}, Tags: []string{"db"},
		Enabled: true, Strategy: "all_tags", ConditionsList: "critical"}))
	if !rule.Enabled || rule.Strategy != "all_tags" || rule.ConditionsList != "critical" {
		t.Fatalf("created %+v", rule)
	}

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"get contact with includes", func(t *testing.T) {
			got := must(c.Contacts.Get(ctx, contact.ID, &client.ListOptions{Include: []string{"media", "rules"}}))
			if got.Name != "Ada" || !slices.Equal(got.Relationships["media"], []string{medium.ID}) || !slices.Equal(got.Relationships["rules"], []string{rule.ID}) {
				t.Errorf("got %+v", got)
			}
		}},
		{"list contacts", func(t *testing.T) {
			p := must(c.Contacts.List(ctx, &client.ListOptions{Include: []string{"media"}}))
			if len(p.Items) != 1 || p.Items[0].ID != contact.ID || p.Pagination.TotalCount != 1 {
				t.Errorf("page %+v", p)
			}
			if len(p.Included) != 1 || p.Included[0].Type != "medium" || p.Included[0].ID != medium.ID {
				t.Errorf("included %+v", p.Included)
			}
		}},
		{"list media filtered", func(t *testing.T) {
			p := must(c.Media.List(ctx, &client.ListOptions{Filter: []string{"transport:email"}, Include: []string{"contact"}}))
			if len(p.Items) != 1 || p.Items[0].Address != "ada@example.com" || p.Items[0].ContactID != contact.ID {
				t.Errorf("page %+v", p)
			}
			p = must(c.Media.List(ctx, &client.ListOptions{Filter: []string{"transport:sms"}}))
			if len(p.Items) != 0 {
				t.Errorf("sms media %+v", p.Items)
			}
		}},
		{"get rule linkage", func(t *testing.T) {
			got := must(c.Rules.Get(ctx, rule.ID, &client.ListOptions{Include: []string{"contact", "media", "tags"}}))
			if got.ContactID != contact.ID || !slices.Equal(got.MediaIDs, []string{medium.ID}) || !slices.Equal(got.Tags, []string{"db"}) {
				t.Errorf("rule %+v", got)
			}
			ids := must(c.Rules.Linkage(ctx, rule.ID, "media"))
			if !slices.Equal(ids, []string{medium.ID}) {
				t.Errorf("linkage %q", ids)
			}
		}},
		{"update contact", func(t *testing.T) {
			ok(t, c.Contacts.Update(ctx, contact.ID, client.Attrs{"name": "Ada L."}))
			if got := must(c.Contacts.Get(ctx, contact.ID, nil)); got.Name != "Ada L." || got.Timezone != "Europe/Rome" {
				t.Errorf("after update %+v", got)
			}
		}},
		{"update medium and rule", func(t *testing.T) {
			ok(t, c.Media.Update(ctx, medium.ID, client.Attrs{"interval": 60}))
			ok(t, c.Rules.Update(ctx, rule.ID, client.Attrs{"enabled": false}))
			if got := must(c.Media.Get(ctx, medium.ID, nil)); got.Interval != 60 {
				t.Errorf("medium %+v", got)
			}
			if got := must(c.Rules.Get(ctx, rule.ID, nil)); got.Enabled {
				t.Errorf("rule %+v", got)
			}
		}},
		{"rule media and tags links", func(t *testing.T) {
			ok(t, c.Rules.RemoveMedia(ctx, rule.ID, medium.ID))
			ok(t, c.Rules.AddTags(ctx, rule.ID, "web"))
			ok(t, c.Rules.RemoveTags(ctx, rule.ID, "db"))
			got := must(c.Rules.Get(ctx, rule.ID, &client.ListOptions{Include: []string{"media", "tags"}}))
			if len(got.MediaIDs) != 0 || !slices.Equal(got.Tags, []string{"web"}) {
				t.Errorf("rule %+v", got)
			}
			ok(t, c.Rules.AddMedia(ctx, rule.ID, medium.ID))
			ok(t, c.Rules.SetTags(ctx, rule.ID, "db", "web"))
			ok(t, c.Rules.SetMedia(ctx, rule.ID, medium.ID))
			got = must(c.Rules.Get(ctx, rule.ID, &client.ListOptions{Include: []string{"media", "tags"}}))
			if !slices.Equal(got.MediaIDs, []string{medium.ID}) || !slices.Equal(got.Tags, []string{"db", "web"}) {
				t.Errorf("rule %+v", got)
			}
		}},
		{"medium rules links", func(t *testing.T) {
			ok(t, c.Media.RemoveRules(ctx, medium.ID, rule.ID))
			if ids := must(c.Media.Linkage(ctx, medium.ID, "rules")); len(ids) != 0 {
				t.Errorf("rules %q", ids)
			}
			ok(t, c.Media.AddRules(ctx, medium.ID, rule.ID))
			ok(t, c.Media.SetRules(ctx, medium.ID, rule.ID))
			if ids := must(c.Media.Linkage(ctx, medium.ID, "rules")); !slices.Equal(ids, []string{rule.ID}) {
				t.Errorf("rules %q", ids)
			}
		}},
		{"tag rules links", func(t *testing.T) {
			ok(t, c.Tags.RemoveRules(ctx, "web", rule.ID))
			must(c.Tags.Create(ctx, &client.Tag{Name: "ops", RuleIDs: []string{rule.ID}}))
			ok(t, c.Tags.AddRules(ctx, "ops", rule.ID))
			got := must(c.Rules.Get(ctx, rule.ID, &client.ListOptions{Include: []string{"tags"}}))
			if !slices.Equal(got.Tags, []string{"db", "ops"}) {
				t.Errorf("tags %q", got.Tags)
			}
			ok(t, c.Tags.SetRules(ctx, "ops"))
		}},
		{"404 unknown contact", func(t *testing.T) {
			_, err := c.Contacts.Get(ctx, "nope", nil)
			wantErr(t, err, http.StatusNotFound, "could not find Contact record, id: 'nope'")
			if !client.IsNotFound(err) {
				t.Error("IsNotFound is false")
			}
		}},
		{"404 medium of unknown contact", func(t *testing.T) {
			_, err := c.Rules.Create(ctx, &client.Rule{ContactID: "nope", Strategy: "global"})
			wantErr(t, err, http.StatusNotFound, "could not find Contact record")
		}},
		{"403 validation", func(t *testing.T) {
			_, err := c.Media.Create(ctx, &client.Medium{ContactID: contact.ID, Transport: "pigeon", Address: "x", Interval: 1})
			wantErr(t, err, http.StatusForbidden, "transport must be one of")
			_, err = c.Contacts.Create(ctx, &client.Contact{Name: "x", Timezone: "Mars/Olympus"})
			wantErr(t, err, http.StatusForbidden, "is not a valid time zone")
			err = c.Contacts.Update(ctx, contact.ID, client.Attrs{"colour": "red"})
			wantErr(t, err, http.StatusForbidden, "Invalid attribute(s): colour")
			_, err = c.Contacts.List(ctx, &client.ListOptions{Sort: []string{"+colour"}})
			wantErr(t, err, http.StatusForbidden, "Invalid sort key")
		}},
		{"409 existing id", func(t *testing.T) {
			_, err := c.Contacts.Create(ctx, &client.Contact{ID: contact.ID, Name: "again"})
			wantErr(t, err, http.StatusConflict, contact.ID)
		}},
		{"delete", func(t *testing.T) {
			ok(t, c.Rules.Delete(ctx, rule.ID))
			ok(t, c.Media.Delete(ctx, medium.ID))
			wantErr(t, c.Media.Delete(ctx, medium.ID), http.StatusNotFound, medium.ID)
			ok(t, c.Contacts.Delete(ctx, contact.ID))
			if p := must(c.Contacts.List(ctx, nil)); len(p.Items) != 0 {
				t.Errorf("contacts left: %+v", p.Items)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestBulkAndPagination(t *testing.T) {
	c, _ := setup(t)
	ctx := t.Context()
	var in []*client.Contact
	for _, n := range []string{"e", "d", "c", "b", "a"} {
		in = append(in, &client.Contact{Name: n})
	}
	created := must(c.Contacts.CreateMany(ctx, in))
	if len(created) != 5 {
		t.Fatalf("created %d", len(created))
	}
	tests := []struct {
		name string
		opts *client.ListOptions
		want []string
	}{
		{"all pages sorted", &client.ListOptions{Sort: []string{"+name"}, PerPage: 2}, []string{"a", "b", "c", "d", "e"}},
		{"descending from page 2", &client.ListOptions{Sort: []string{"-name"}, PerPage: 2, Page: 2}, []string{"c", "b", "a"}},
		{"filtered", &client.ListOptions{Filter: []string{"name:c"}}, []string{"c"}},
		{"default options", nil, []string{"a", "b", "c", "d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for ct, err := range c.Contacts.All(ctx, tt.opts) {
				ok(t, err)
				got = append(got, ct.Name)
			}
			if tt.opts == nil {
				slices.Sort(got)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("one page", func(t *testing.T) {
		p := must(c.Contacts.List(ctx, &client.ListOptions{PerPage: 2, Page: 3, Fields: map[string][]string{"contact": {"name"}}}))
		if len(p.Items) != 1 || p.Pagination != (client.Pagination{Page: 3, PerPage: 2, TotalPages: 3, TotalCount: 5}) {
			t.Errorf("page %+v", p)
		}
	})
	t.Run("iteration stops at an error", func(t *testing.T) {
		_, err := c.Contacts.ListAll(ctx, &client.ListOptions{Page: -1, PerPage: 0, Filter: []string{"bogus:x"}})
		wantErr(t, err, http.StatusForbidden, "Invalid filter key")
	})
	t.Run("delete many", func(t *testing.T) {
		ok(t, c.Contacts.DeleteMany(ctx, created[0].ID, created[1].ID))
		all := must(c.Contacts.ListAll(ctx, nil))
		if len(all) != 3 {
			t.Errorf("left %d", len(all))
		}
		wantErr(t, c.Contacts.DeleteMany(ctx, created[0].ID), http.StatusNotFound, "Could not find all records")
	})
}

func TestChecksAndTags(t *testing.T) {
	c, _ := setup(t)
	ctx := t.Context()
	five := int64(5)
	chk := must(c.Checks.Create(ctx, &client.Check{Name: "db:load", Enabled: true, InitialFailureDelay: &five, Tags: []string{"db"}}))
	if chk.ID == "" || chk.Name != "db:load" || !chk.Enabled || chk.InitialFailureDelay == nil || *chk.InitialFailureDelay != 5 {
		t.Fatalf("created %+v", chk)
	}
	more := must(c.Checks.CreateMany(ctx, []*client.Check{{Name: "web:http", Enabled: true}, {Name: "web:tls", Enabled: false}}))
	if len(more) != 2 {
		t.Fatalf("created %d", len(more))
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"get with tags", func(t *testing.T) {
			got := must(c.Checks.Get(ctx, chk.ID, &client.ListOptions{Include: []string{"tags"}}))
			if !slices.Equal(got.Tags, []string{"db"}) {
				t.Errorf("tags %q", got.Tags)
			}
		}},
		{"list enabled", func(t *testing.T) {
			all := must(c.Checks.ListAll(ctx, &client.ListOptions{Filter: []string{"enabled:true"}, Sort: []string{"+name"}}))
			if len(all) != 2 || all[0].Name != "db:load" || all[1].Name != "web:http" {
				t.Errorf("enabled %+v", all)
			}
		}},
		{"update", func(t *testing.T) {
			ok(t, c.Checks.Update(ctx, more[1].ID, client.Attrs{"enabled": true, "repeat_failure_delay": 30}))
			got := must(c.Checks.Get(ctx, more[1].ID, nil))
			if !got.Enabled || got.RepeatFailureDelay == nil || *got.RepeatFailureDelay != 30 {
				t.Errorf("updated %+v", got)
			}
		}},
		{"check tags links", func(t *testing.T) {
			ok(t, c.Checks.AddTags(ctx, more[0].ID, "web", "prod"))
			ok(t, c.Checks.RemoveTags(ctx, more[0].ID, "prod"))
			ok(t, c.Checks.SetTags(ctx, more[1].ID, "web"))
			if ids := must(c.Tags.Linkage(ctx, "web", "checks")); len(ids) != 2 {
				t.Errorf("web checks %q", ids)
			}
		}},
		{"tag checks links", func(t *testing.T) {
			ok(t, c.Tags.AddChecks(ctx, "db", more[0].ID))
			ok(t, c.Tags.RemoveChecks(ctx, "db", more[0].ID))
			ok(t, c.Tags.SetChecks(ctx, "db", chk.ID))
			if ids := must(c.Checks.Linkage(ctx, more[0].ID, "tags")); !slices.Equal(ids, []string{"web"}) {
				t.Errorf("tags %q", ids)
			}
		}},
		{"tags", func(t *testing.T) {
			tag := must(c.Tags.Create(ctx, &client.Tag{Name: "spare", CheckIDs: []string{chk.ID}}))
			if tag.ID != "spare" {
				t.Errorf("tag %+v", tag)
			}
			got := must(c.Tags.Get(ctx, "db", &client.ListOptions{Include: []string{"checks"}}))
			if !slices.Equal(got.Relationships["checks"], []string{chk.ID}) {
				t.Errorf("db %+v", got)
			}
			names := must(c.Tags.ListAll(ctx, &client.ListOptions{Sort: []string{"+name"}}))
			if len(names) < 3 {
				t.Errorf("tags %+v", names)
			}
			ok(t, c.Tags.Delete(ctx, "spare"))
		}},
		{"409 existing name", func(t *testing.T) {
			_, err := c.Checks.Create(ctx, &client.Check{Name: "db:load", Enabled: true})
			wantErr(t, err, http.StatusConflict, "already exist")
		}},
		{"403 invalid tag", func(t *testing.T) {
			wantErr(t, c.Checks.AddTags(ctx, chk.ID, "no spaces"), http.StatusForbidden, "not a valid tag name")
		}},
		{"404 unknown check", func(t *testing.T) {
			wantErr(t, c.Checks.Update(ctx, "nope", client.Attrs{"enabled": false}), http.StatusNotFound, "nope")
		}},
		{"delete", func(t *testing.T) {
			ok(t, c.Checks.Delete(ctx, more[1].ID))
			if _, err := c.Checks.Get(ctx, more[1].ID, nil); !client.IsNotFound(err) {
				t.Errorf("after delete: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// failing stores a failing, acknowledgeable check tagged db with a state and
// an unscheduled maintenance.
func failing(t *testing.T, st store.Store, name string, now time.Time) flapjack.Check {
	t.Helper()
	ctx := context.Background()
	state := flapjack.State{CreatedAt: now.Add(-time.Hour).Truncate(time.Second), UpdatedAt: now.Truncate(time.Second), Condition: flapjack.Critical, Summary: "down"}
	_, err := st.UpdateCheck(ctx, name, true, func(u *store.CheckUpdate) error {
		u.Check.Enabled, u.Check.Failing, u.Check.Condition = true, true, flapjack.Critical
		u.Check.Tags = []string{"db"}
		u.Check.CurrentState = &state
		u.History = append(u.History, state)
		u.Check.UnscheduledMaintenances = []flapjack.Maintenance{{ID: "um-" + name, Start: now.Add(-time.Minute).Truncate(time.Second), End: now.Add(time.Hour).Truncate(time.Second), Summary: "acked"}}
		return nil
	})
	ok(t, err)
	c, err := st.Check(ctx, name)
	ok(t, err)
	return c
}

func TestMaintenancesAndStates(t *testing.T) {
	c, st := setup(t)
	ctx := t.Context()
	now := time.Now().UTC()
	a := failing(t, st, "db:a", now)
	failing(t, st, "db:b", now)
	start, end := now.Add(time.Hour).Truncate(time.Second), now.Add(2*time.Hour).Truncate(time.Second)

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"schedule for a check", func(t *testing.T) {
			ms := must(c.ScheduledMaintenances.Create(ctx, client.ForCheck(a.ID), start, end, "upgrade"))
			if len(ms) != 1 || !ms[0].StartTime.Equal(start) || !ms[0].EndTime.Equal(end) || ms[0].Summary != "upgrade" {
				t.Fatalf("created %+v", ms)
			}
			ok(t, c.ScheduledMaintenances.Update(ctx, ms[0].ID, client.Attrs{"summary": "longer", "end_time": end.Add(time.Hour)}))
			got := must(c.ScheduledMaintenances.Get(ctx, ms[0].ID, &client.ListOptions{Include: []string{"check"}}))
			if got.Summary != "longer" || !got.EndTime.Equal(end.Add(time.Hour)) || got.CheckID != a.ID {
				t.Errorf("updated %+v", got)
			}
			ok(t, c.ScheduledMaintenances.Delete(ctx, ms[0].ID))
		}},
		{"schedule for a tag", func(t *testing.T) {
			ms := must(c.ScheduledMaintenances.Create(ctx, client.ForTag("db"), start, end, ""))
			if len(ms) != 2 {
				t.Fatalf("created %+v", ms)
			}
			all := must(c.ScheduledMaintenances.ListAll(ctx, &client.ListOptions{Filter: []string{"start_time:" + start.Add(-time.Minute).Format(time.RFC3339) + ".."}}))
			if len(all) != 2 {
				t.Errorf("listed %+v", all)
			}
			ok(t, c.ScheduledMaintenances.DeleteMany(ctx, ms[0].ID, ms[1].ID))
		}},
		{"403 end before start", func(t *testing.T) {
			_, err := c.ScheduledMaintenances.Create(ctx, client.ForCheck(a.ID), end, start, "")
			wantErr(t, err, http.StatusForbidden, "end_time must be after start_time")
		}},
		{"404 unknown tag", func(t *testing.T) {
			_, err := c.ScheduledMaintenances.Create(ctx, client.ForTag("nope"), start, end, "")
			wantErr(t, err, http.StatusNotFound, "could not find Tag record")
		}},
		{"unscheduled: list and end now", func(t *testing.T) {
			all := must(c.UnscheduledMaintenances.ListAll(ctx, &client.ListOptions{Include: []string{"check"}, Sort: []string{"+start_time"}}))
			if len(all) != 2 || all[0].Summary != "acked" {
				t.Fatalf("listed %+v", all)
			}
			ok(t, c.UnscheduledMaintenances.End(ctx, "um-db:a", time.Now().Add(time.Second)))
			got := must(c.UnscheduledMaintenances.Get(ctx, "um-db:a", nil))
			if got.EndTime.After(time.Now().Add(2 * time.Second)) {
				t.Errorf("not ended: %+v", got)
			}
			ok(t, c.UnscheduledMaintenances.Delete(ctx, "um-db:b"))
			wantErr(t, c.UnscheduledMaintenances.Delete(ctx, "um-db:b"), http.StatusNotFound, "um-db:b")
		}},
		{"states in a range", func(t *testing.T) {
			all := must(c.States.ListAll(ctx, &client.ListOptions{Filter: []string{client.CreatedBetween(now.Add(-2*time.Hour), time.Time{})}, Include: []string{"check"}}))
			if len(all) != 2 || all[0].Condition != "critical" || all[0].Summary != "down" || all[0].CheckID == "" {
				t.Errorf("states %+v", all)
			}
			none := must(c.States.ListAll(ctx, &client.ListOptions{Filter: []string{client.CreatedBetween(time.Time{}, now.Add(-3*time.Hour))}}))
			if len(none) != 0 {
				t.Errorf("states %+v", none)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestActionsAndEvents(t *testing.T) {
	c, st := setup(t)
	ctx := t.Context()
	a := failing(t, st, "db:a", time.Now())
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"acknowledge a check", func(t *testing.T) {
			ids := must(c.Acknowledge(ctx, client.ForCheck(a.ID), client.Acknowledgement{Duration: 10 * time.Minute, Summary: "on it"}))
			if len(ids) != 1 || ids[0] == "" {
				t.Errorf("ids %q", ids)
			}
			got := queued(t, st.Queue("events"))
			if len(got) != 1 {
				t.Fatalf("queued %q", got)
			}
			var ev flapjack.Event
			ok(t, json.Unmarshal([]byte(got[0]), &ev))
			if ev.State != "acknowledgement" || ev.AcknowledgementID != a.AckHash || ev.Summary != "on it" || ev.Duration == nil || *ev.Duration != 600 {
				t.Errorf("event %+v", ev)
			}
		}},
		{"acknowledge a tag", func(t *testing.T) {
			must(c.Acknowledge(ctx, client.ForTag("db"), client.Acknowledgement{}))
			if got := queued(t, st.Queue("events")); len(got) != 1 {
				t.Errorf("queued %q", got)
			}
		}},
		{"acknowledge without target", func(t *testing.T) {
			_, err := c.Acknowledge(ctx, client.Target{}, client.Acknowledgement{})
			wantErr(t, err, http.StatusForbidden, "exactly one of the relationships check and tag is required")
		}},
		{"test notification", func(t *testing.T) {
			must(c.SendTestNotification(ctx, client.ForCheck(a.ID), client.TestNotification{Condition: "warning", Summary: "drill"}))
			got := queued(t, st.Queue("events"))
			if len(got) != 1 || !strings.Contains(got[0], "test_notifications warning") {
				t.Errorf("queued %q", got)
			}
		}},
		{"send one event", func(t *testing.T) {
			r := must(c.SendEvents(ctx, flapjack.Event{Check: "web:http", State: "ok", Summary: "fine", Time: time.Now().Unix()}))
			if r.Accepted != 1 || len(r.Rejected) != 0 {
				t.Errorf("reply %+v", r)
			}
			if got := queued(t, st.Queue("events")); len(got) != 1 || !strings.Contains(got[0], "web:http") {
				t.Errorf("queued %q", got)
			}
		}},
		{"send several, one invalid", func(t *testing.T) {
			r := must(c.SendEvents(ctx, flapjack.Event{Check: "a", State: "ok", Time: time.Now().Unix()},
				flapjack.Event{Check: "b", State: "bogus", Time: time.Now().Unix()}))
			if r.Accepted != 1 || len(r.Rejected) != 1 || r.Rejected[0].Index != 1 {
				t.Errorf("reply %+v", r)
			}
			queued(t, st.Queue("events"))
		}},
		{"send only invalid", func(t *testing.T) {
			r, err := c.SendEvents(ctx, flapjack.Event{Check: "b", State: "bogus", Time: time.Now().Unix()})
			wantErr(t, err, http.StatusUnprocessableEntity, "state")
			if r == nil || r.Accepted != 0 || len(r.Rejected) != 1 {
				t.Errorf("reply %+v", r)
			}
		}},
		{"metrics", func(t *testing.T) {
			ok(t, st.AddStatistics(ctx, "global", time.Now(), flapjack.Statistics{AllEvents: 3}))
			m := must(c.Metrics(ctx))
			if m.CheckCounts["all"] != 1 || m.CheckCounts["failing"] != 1 || m.ProcessedEvents.AllEvents != 3 {
				t.Errorf("metrics %+v", m)
			}
			m = must(c.Metrics(ctx, "check_counts"))
			if m.CheckCounts["all"] != 1 || m.ProcessedEvents.AllEvents != 0 {
				t.Errorf("metrics %+v", m)
			}
		}},
		{"statistics", func(t *testing.T) {
			all := must(c.Statistics.ListAll(ctx, nil))
			if len(all) != 1 || all[0].InstanceName != "global" || all[0].AllEvents != 3 {
				t.Errorf("statistics %+v", all)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestRequestHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.Header().Set("Content-Type", client.MediaType)
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"errors":[{"status":"401","detail":"bad token"},{"status":"401","detail":"really"}]}`))
	}))
	defer srv.Close()
	c := client.New(srv.URL+"/", client.WithToken("s3cret"), client.WithUserAgent("tests/1"))
	_, err := c.Metrics(t.Context())
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 401 || !slices.Equal(e.Details, []string{"bad token", "really"}) {
		t.Fatalf("error %#v", err)
	}
	if e.Error() != "flapjack: 401: bad token; really" {
		t.Errorf("message %q", e.Error())
	}
	for k, want := range map[string]string{"Authorization": "Bearer s3cret", "User-Agent": "tests/1", "Accept": client.MediaType} {
		if got.Get(k) != want {
			t.Errorf("%s: %q, want %q", k, got.Get(k), want)
		}
	}
}

func TestContextCanceled(t *testing.T) {
	c, _ := setup(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Contacts.List(ctx, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
}
