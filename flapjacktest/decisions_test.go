package flapjacktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/flapjacktest"
	"github.com/x/flapjack/setup"
)

// TestDecisionLog follows a check through a failure and a recovery and reads
// back, newest first, what the processor and the notifier recorded and the
// plain words an operator sees.
func TestDecisionLog(t *testing.T) {
	ctx := context.Background()
	data := &setup.Data{
		Checks: []setup.Check{{Name: "web1:http"}},
		Contacts: []setup.Contact{{
			ID: "ada", Name: "Ada",
			Media: []setup.Medium{{ID: "ada_email", Transport: "email", Address: "ada@example.com", Interval: 3600}},
			Rules: []setup.Rule{{ID: "all", Strategy: "global", Media: []string{"ada_email"}}},
		}},
	}
	if err := data.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := flapjacktest.New(ctx, flapjacktest.Config{Setup: data})
	if err != nil {
		t.Fatal(err)
	}
	event := func(after time.Duration, state string) {
		t.Helper()
		h.Clock.Advance(after)
		if _, err := h.Event(ctx, flapjack.Event{Entity: "web1", Check: "http", State: state, Summary: state + " summary"}); err != nil {
			t.Fatal(err)
		}
	}
	event(0, "ok")                    // an ok check staying ok: not recorded
	event(10*time.Second, "ok")       // nor this
	event(10*time.Second, "critical") // kept back by the initial failure delay
	event(10*time.Second, "critical") // the same: merged
	event(25*time.Second, "critical") // failing for 35s: a problem
	event(10*time.Second, "critical") // within the repeat failure delay
	event(20*time.Second, "ok")       // a recovery
	event(10*time.Second, "ok")       // ok again: not recorded

	check, err := h.Store.Check(ctx, "web1:http")
	if err != nil {
		t.Fatal(err)
	}
	recs, err := h.Store.Decisions(ctx, check.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		source, event, outcome string
		count                  int64
		explanation            string
	}{
		{"notifier", "recovery", "alerted", 1, "A recovery notification alerted Ada by email."},
		{"processor", "ok", "notification", 1, "An ok result made a recovery notification."},
		{"processor", "critical", "no notification", 1,
			"A critical result made no notification: last problem notification 10s ago, within the repeat failure delay of 60s."},
		{"notifier", "problem", "alerted", 1, "A problem notification alerted Ada by email."},
		{"processor", "critical", "notification", 1, "A critical result made a problem notification."},
		{"processor", "critical", "no notification", 2,
			"A critical result made no notification: failing for 10s, less than the initial failure delay of 30s. The same for 2 in a row."},
	}
	if len(recs) != len(want) {
		for _, r := range recs {
			t.Logf("%s %s %s ×%d: %s", r.Source, r.Event, r.Outcome, r.Count, r.Explanation())
		}
		t.Fatalf("got %d records, want %d", len(recs), len(want))
	}
	start := flapjacktest.DefaultStart
	for i, w := range want {
		r := recs[i]
		if r.Source != w.source || r.Event != w.event || r.Outcome != w.outcome || r.Count != w.count {
			t.Errorf("record %d = %s %s %s ×%d, want %s %s %s ×%d", i, r.Source, r.Event, r.Outcome, r.Count,
				w.source, w.event, w.outcome, w.count)
		}
		if got := r.Explanation(); got != w.explanation {
			t.Errorf("record %d explanation:\n got %q\nwant %q", i, got, w.explanation)
		}
		if r.CheckID != check.ID || r.CheckName != "web1:http" {
			t.Errorf("record %d is about %s %q", i, r.CheckID, r.CheckName)
		}
	}
	// The merged record spans its two decisions and says what the later said.
	if m := recs[5]; !m.Time.Equal(start.Add(20*time.Second)) || !m.Last.Equal(start.Add(30*time.Second)) {
		t.Errorf("merged record from %v to %v", m.Time, m.Last)
	}
	// The processor's record and the notifier's share the notification.
	if recs[0].NotificationID == "" || recs[0].NotificationID != recs[1].NotificationID {
		t.Errorf("recovery records name notifications %q and %q", recs[0].NotificationID, recs[1].NotificationID)
	}
	if a := recs[3].Alerts; len(a) != 1 || a[0].ContactID != "ada" || a[0].MediumID != "ada_email" || a[0].Type != flapjack.TypeProblem {
		t.Errorf("problem alerts = %+v", a)
	}
}
