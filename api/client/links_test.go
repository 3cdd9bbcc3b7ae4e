package client_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api/client"
	"github.com/x/flapjack/store"
)

func TestContactTags(t *testing.T) {
	c, st := setup(t)
	ctx := t.Context()
	ada := must(c.Contacts.Create(ctx, &client.Contact{Name: "Ada", Tags: []string{"ops"}}))
	bob := must(c.Contacts.Create(ctx, &client.Contact{Name: "Bob"}))
	tagsOf := func(id string) []string {
		t.Helper()
		got := must(c.Contacts.Get(ctx, id, &client.ListOptions{Include: []string{"tags"}}))
		return got.Tags
	}
	steps := []struct {
		name     string
		do       func() error
		ada, bob []string
	}{
		{"created with a tag", func() error { return nil }, []string{"ops"}, nil},
		{"add", func() error { return c.Contacts.AddTags(ctx, ada.ID, "db", "eu") }, []string{"db", "eu", "ops"}, nil},
		{"remove", func() error { return c.Contacts.RemoveTags(ctx, ada.ID, "eu") }, []string{"db", "ops"}, nil},
		{"set", func() error { return c.Contacts.SetTags(ctx, bob.ID, "db") }, []string{"db", "ops"}, []string{"db"}},
		{"tag adds a contact", func() error { return c.Tags.AddContacts(ctx, "ops", bob.ID) }, []string{"db", "ops"}, []string{"db", "ops"}},
		{"tag removes a contact", func() error { return c.Tags.RemoveContacts(ctx, "db", ada.ID) }, []string{"ops"}, []string{"db", "ops"}},
		{"tag sets its contacts", func() error { return c.Tags.SetContacts(ctx, "db", ada.ID) }, []string{"db", "ops"}, []string{"ops"}},
		{"tag created on a contact", func() error {
			_, err := c.Tags.Create(ctx, &client.Tag{Name: "night", ContactIDs: []string{ada.ID}})
			return err
		}, []string{"db", "night", "ops"}, []string{"ops"}},
	}
	for _, s := range steps {
		ok(t, s.do())
		if got := tagsOf(ada.ID); !slices.Equal(got, s.ada) {
			t.Errorf("%s: Ada's tags %q, want %q", s.name, got, s.ada)
		}
		if got := tagsOf(bob.ID); !slices.Equal(got, s.bob) {
			t.Errorf("%s: Bob's tags %q, want %q", s.name, got, s.bob)
		}
	}
	rt, err := st.Routing(ctx)
	ok(t, err)
	if got := rt.Contacts[ada.ID].Tags; !slices.Equal(got, []string{"db", "night", "ops"}) {
		t.Errorf("stored tags %q", got)
	}
}

func TestRelatedRecords(t *testing.T) {
	c, st := setup(t)
	ctx := t.Context()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	state := func(m int, cond flapjack.Condition, summary string) flapjack.State {
		return flapjack.State{CreatedAt: at(m), UpdatedAt: at(m), Condition: cond, Summary: summary}
	}
	add := func(name string, fn func(u *store.CheckUpdate)) flapjack.Check {
		t.Helper()
		_, err := st.UpdateCheck(context.Background(), name, true, func(u *store.CheckUpdate) error {
			u.Check.Tags = []string{"db"}
			fn(u)
			return nil
		})
		ok(t, err)
		ch, err := st.Check(context.Background(), name)
		ok(t, err)
		return ch
	}
	a := add("db:a", func(u *store.CheckUpdate) {
		u.History = []flapjack.State{state(0, flapjack.Critical, "a down"), state(20, flapjack.OK, "a up")}
		ack := state(10, flapjack.Critical, "on it")
		ack.Action = flapjack.Acknowledgement
		u.Check.LatestNotifications = []flapjack.State{state(0, flapjack.Critical, "a down"), ack, state(20, flapjack.OK, "a up")}
		u.Check.ScheduledMaintenances = []flapjack.Maintenance{{ID: "11111111-0000-4000-8000-000000000001", Start: at(5), End: at(6)}}
		u.Check.UnscheduledMaintenances = []flapjack.Maintenance{{ID: "11111111-0000-4000-8000-000000000003", Start: at(10), End: at(40), Summary: "on it"}}
	})
	add("db:b", func(u *store.CheckUpdate) {
		u.History = []flapjack.State{state(15, flapjack.Warning, "b slow")}
		u.Check.ScheduledMaintenances = []flapjack.Maintenance{{ID: "11111111-0000-4000-8000-000000000002", Start: at(7), End: at(8)}}
	})

	summaries := func(states []client.State) []string {
		var out []string
		for _, s := range states {
			out = append(out, s.Summary)
		}
		return out
	}
	tests := []struct {
		name string
		got  func() ([]string, error)
		want []string
	}{
		{"latest notifications", func() ([]string, error) {
			ns, err := c.Checks.LatestNotifications(ctx, a.ID)
			return summaries(ns), err
		}, []string{"a up", "on it", "a down"}},
		{"tag states", func() ([]string, error) {
			ss, err := c.Tags.States(ctx, "db", nil)
			return summaries(ss), err
		}, []string{"a up", "b slow", "a down"}},
		{"tag states, filtered and paged", func() ([]string, error) {
			ss, err := c.Tags.States(ctx, "db", &client.ListOptions{Filter: []string{"condition:critical|warning"}, PerPage: 1, Page: 2})
			return summaries(ss), err
		}, []string{"a down"}},
		{"tag scheduled maintenances", func() ([]string, error) {
			ms, err := c.Tags.ScheduledMaintenances(ctx, "db", nil)
			var ids []string
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			return ids, err
		}, []string{"11111111-0000-4000-8000-000000000002", "11111111-0000-4000-8000-000000000001"}},
		{"tag unscheduled maintenances", func() ([]string, error) {
			ms, err := c.Tags.UnscheduledMaintenances(ctx, "db", nil)
			var out []string
			for _, m := range ms {
				out = append(out, m.Summary+" "+m.StartTime.Format("15:04"))
			}
			return out, err
		}, []string{"on it 12:10"}},
		{"a tag without states", func() ([]string, error) {
			ss, err := c.Tags.States(ctx, "db", &client.ListOptions{Filter: []string{"condition:unknown"}})
			return summaries(ss), err
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got()
			ok(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	_, err := c.Checks.LatestNotifications(ctx, "nope")
	if !client.IsNotFound(err) {
		t.Errorf("latest notifications of an unknown check: %v", err)
	}
	m := must(c.Metrics(ctx, "total_keys"))
	if want, _ := st.KeyCount(ctx); m.TotalKeys == nil || *m.TotalKeys != want {
		t.Errorf("total_keys %v, want %d", m.TotalKeys, want)
	}
}
