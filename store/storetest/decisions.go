package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// RunDecisions runs the conformance suite of store.DecisionLog. newStore
// returns a fresh, empty store that implements it, as for Run.
func RunDecisions(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("NewestFirst", func(t *testing.T) { testDecisionsOrder(t, newStore) })
	t.Run("MergesSameKey", func(t *testing.T) { testDecisionsMerge(t, newStore) })
	t.Run("KeepsNewest", func(t *testing.T) { testDecisionsCap(t, newStore) })
	t.Run("PerCheck", func(t *testing.T) { testDecisionsPerCheck(t, newStore) })
	t.Run("DeletedWithCheck", func(t *testing.T) { testDecisionsDelete(t, newStore) })
	t.Run("RoundTrip", func(t *testing.T) { testDecisionsRoundTrip(t, newStore) })
}

var decisionEpoch = time.Date(2026, time.March, 1, 9, 0, 0, 0, time.UTC)

func decisionLog(t *testing.T, s store.Store) store.DecisionLog {
	t.Helper()
	l, ok := s.(store.DecisionLog)
	if !ok {
		t.Fatalf("%T is not a store.DecisionLog", s)
	}
	return l
}

// blocked is a processor record of a critical result kept back by delays, at
// second sec of the epoch.
func blocked(checkID string, sec int) flapjack.DecisionRecord {
	r := flapjack.DecisionRecord{
		CheckID: checkID, CheckName: "web:" + checkID, Source: flapjack.DecidedByProcessor,
		Time: decisionEpoch.Add(time.Duration(sec) * time.Second), Event: "critical",
		Outcome: flapjack.OutcomeNoNotification, BlockedBy: "delays", Summary: fmt.Sprintf("down %d", sec),
	}
	r.Trace.Add("filter:delays", "block", fmt.Sprintf("failing for %ds, less than the initial failure delay of 30s", sec))
	return r
}

func notified(checkID string, sec int) flapjack.DecisionRecord {
	r := blocked(checkID, sec)
	r.Outcome, r.BlockedBy, r.NotificationID = flapjack.OutcomeNotification, "", fmt.Sprintf("n%d", sec)
	r.Trace.Steps = nil
	r.Trace.Add("notification", "problem", "severity critical")
	return r
}

func decisions(t *testing.T, l store.DecisionLog, id string) []flapjack.DecisionRecord {
	t.Helper()
	got, err := l.Decisions(context.Background(), id)
	if err != nil {
		t.Fatalf("Decisions(%q): %v", id, err)
	}
	return got
}

func appendDecisions(t *testing.T, l store.DecisionLog, recs ...flapjack.DecisionRecord) {
	t.Helper()
	if err := l.AppendDecisions(context.Background(), recs...); err != nil {
		t.Fatalf("AppendDecisions: %v", err)
	}
}

func testDecisionsOrder(t *testing.T, newStore func(t *testing.T) store.Store) {
	l := decisionLog(t, newStore(t))
	if got := decisions(t, l, "c1"); len(got) != 0 {
		t.Fatalf("empty log = %v", got)
	}
	// Alternating records never merge.
	appendDecisions(t, l, blocked("c1", 0), notified("c1", 30))
	appendDecisions(t, l, blocked("c1", 40))
	got := decisions(t, l, "c1")
	want := []string{"down 40", "down 30", "down 0"}
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Summary != want[i] || r.Count != 1 || !r.Last.Equal(r.Time) {
			t.Errorf("record %d = %q count %d time %v last %v; want %q once", i, r.Summary, r.Count, r.Time, r.Last, want[i])
		}
	}
}

func testDecisionsMerge(t *testing.T, newStore func(t *testing.T) store.Store) {
	l := decisionLog(t, newStore(t))
	// Merged within one call and across calls.
	appendDecisions(t, l, blocked("c1", 0), blocked("c1", 10))
	appendDecisions(t, l, blocked("c1", 20))
	got := decisions(t, l, "c1")
	if len(got) != 1 {
		t.Fatalf("got %d records, want 1 merged", len(got))
	}
	r := got[0]
	if r.Count != 3 || !r.Time.Equal(decisionEpoch) || !r.Last.Equal(decisionEpoch.Add(20*time.Second)) {
		t.Errorf("merged = count %d, time %v, last %v; want 3 from the epoch to 20s after", r.Count, r.Time, r.Last)
	}
	if r.Summary != "down 20" || r.Trace.Steps[0].Detail != "failing for 20s, less than the initial failure delay of 30s" {
		t.Errorf("merged record says %q, %q; want the latest's words", r.Summary, r.Trace)
	}
	// A record with a count already merged adds it.
	pre := blocked("c1", 30)
	pre.Count, pre.Last = 4, decisionEpoch.Add(50*time.Second)
	appendDecisions(t, l, pre)
	if r := decisions(t, l, "c1")[0]; r.Count != 7 || !r.Last.Equal(pre.Last) {
		t.Errorf("after a merged record: count %d last %v, want 7 and %v", r.Count, r.Last, pre.Last)
	}
	// A different decision starts a new record.
	appendDecisions(t, l, notified("c1", 60), blocked("c1", 70))
	if got := decisions(t, l, "c1"); len(got) != 3 || got[0].Count != 1 || got[2].Count != 7 {
		t.Errorf("after other decisions: %d records", len(got))
	}
}

func testDecisionsCap(t *testing.T, newStore func(t *testing.T) store.Store) {
	l := decisionLog(t, newStore(t))
	var recs []flapjack.DecisionRecord
	n := store.DecisionLogSize + 7
	for i := range n {
		if i%2 == 0 {
			recs = append(recs, blocked("c1", i))
		} else {
			recs = append(recs, notified("c1", i))
		}
	}
	appendDecisions(t, l, recs[:10]...)
	appendDecisions(t, l, recs[10:]...)
	got := decisions(t, l, "c1")
	if len(got) != store.DecisionLogSize {
		t.Fatalf("kept %d records, want %d", len(got), store.DecisionLogSize)
	}
	if want := fmt.Sprintf("down %d", n-1); got[0].Summary != want {
		t.Errorf("newest = %q, want %q", got[0].Summary, want)
	}
	if want := fmt.Sprintf("down %d", n-store.DecisionLogSize); got[len(got)-1].Summary != want {
		t.Errorf("oldest kept = %q, want %q", got[len(got)-1].Summary, want)
	}
}

func testDecisionsPerCheck(t *testing.T, newStore func(t *testing.T) store.Store) {
	l := decisionLog(t, newStore(t))
	// Records of two checks, interleaved: each check's log merges its own.
	appendDecisions(t, l, blocked("a", 0), blocked("b", 1), blocked("a", 2), blocked("b", 3), notified("b", 4))
	if got := decisions(t, l, "a"); len(got) != 1 || got[0].Count != 2 {
		t.Errorf("log a = %d records", len(got))
	}
	if got := decisions(t, l, "b"); len(got) != 2 || got[1].Count != 2 || got[0].Outcome != flapjack.OutcomeNotification {
		t.Errorf("log b = %d records", len(got))
	}
}

func testDecisionsDelete(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	l := decisionLog(t, s)
	ctx := context.Background()
	c, err := s.UpdateCheck(ctx, "web:http", true, func(u *store.CheckUpdate) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	appendDecisions(t, l, blocked(c.ID, 0))
	if err := s.DeleteCheck(ctx, "web:http"); err != nil {
		t.Fatal(err)
	}
	if got := decisions(t, l, c.ID); len(got) != 0 {
		t.Errorf("a deleted check's log has %d records", len(got))
	}
}

func testDecisionsRoundTrip(t *testing.T, newStore func(t *testing.T) store.Store) {
	l := decisionLog(t, newStore(t))
	r := flapjack.DecisionRecord{
		CheckID: "c1", CheckName: "db:disk \"/var\"\nline two", Source: flapjack.DecidedByNotifier,
		Time: decisionEpoch, Last: decisionEpoch, Count: 1, Event: "problem", Summary: "ünïcode\n%d |x|",
		Outcome: flapjack.OutcomeAlerted, NotificationID: "n1",
		Alerts: []flapjack.DecisionAlert{
			{ContactID: "k1", ContactName: "Ada", MediumID: "m1", Transport: "email", Type: flapjack.TypeProblem},
			{ContactID: "k2", MediumID: "m2", Transport: "sms", Type: flapjack.TypeProblem, Rollup: flapjack.RollupProblem},
		},
	}
	r.Trace.Add("rule:r1", "accept", "matches every check")
	r.Trace.Add("medium:m1", "send", "first alert")
	appendDecisions(t, l, r)
	got := decisions(t, l, "c1")
	if len(got) != 1 {
		t.Fatalf("got %d records", len(got))
	}
	g := got[0]
	if g.CheckName != r.CheckName || g.Summary != r.Summary || g.Source != r.Source || g.Event != r.Event ||
		g.Outcome != r.Outcome || g.NotificationID != r.NotificationID || g.Count != 1 ||
		!g.Time.Equal(r.Time) || !g.Last.Equal(r.Last) ||
		fmt.Sprint(g.Alerts) != fmt.Sprint(r.Alerts) || g.Trace.String() != r.Trace.String() {
		t.Errorf("round trip:\n got %+v\nwant %+v", g, r)
	}
	// What the caller holds is not the store's.
	got[0].Alerts[0].ContactName = "changed"
	if decisions(t, l, "c1")[0].Alerts[0].ContactName != "Ada" {
		t.Error("a returned record shares memory with the store")
	}
}
