package processor_test

import (
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
)

// decisionLog is the decision log of the check named name.
func decisionLog(t *testing.T, s *countingStore, name string) []flapjack.DecisionRecord {
	t.Helper()
	c, err := s.Check(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := s.Decisions(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestProcessBatchRecordsDecisions(t *testing.T) {
	s := &countingStore{Store: newStore(t), fail: "e"}
	s.failures.Store(1)
	p := newProcessor(t, s, &tickClock{now: t0}, processor.Options{})
	batch := raws(
		`{"check":"c","state":"critical","summary":"c1"}`,
		`{"check":"d","state":"ok"}`,
		`{"check":"e","state":"warning","summary":"e1"}`,
		`{"check":"c","state":"critical","summary":"c2"}`,
		`{"check":"d","state":"ok"}`,
		`{"check":"c","state":"ok","summary":"c3"}`,
	)
	errs := p.ProcessBatch(t.Context(), batch)
	if errs[2] == nil {
		t.Fatal("the write of check e did not fail")
	}
	c := decisionLog(t, s, "c")
	// Newest first: the recovery that was never announced, then the two
	// failures kept back by the delay, merged.
	if len(c) != 2 {
		t.Fatalf("check c: %d records, want 2", len(c))
	}
	if r := c[0]; r.Event != "ok" || r.BlockedBy != "ok" || r.Count != 1 {
		t.Errorf("check c newest record = %+v", r)
	}
	if r := c[1]; r.Count != 2 || r.Summary != "c2" || r.BlockedBy != "delays" || r.Outcome != flapjack.OutcomeNoNotification {
		t.Errorf("check c record = %+v", r)
	}
	if d := decisionLog(t, s, "d"); len(d) != 0 {
		t.Errorf("ok results of an ok check were recorded: %+v", d)
	}
	if _, err := s.Check(t.Context(), "e"); err == nil {
		t.Fatal("check e was written")
	}
	// Given again, e's event is recorded once.
	if errs := p.ProcessBatch(t.Context(), raws(`{"check":"e","state":"warning","summary":"e1"}`)); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if e := decisionLog(t, s, "e"); len(e) != 1 || e[0].Count != 1 || e[0].Event != "warning" {
		t.Errorf("check e log = %+v", e)
	}
}

func TestNoDecisionLog(t *testing.T) {
	s := &countingStore{Store: newStore(t)}
	p := newProcessor(t, s, &tickClock{now: t0}, processor.Options{NoDecisionLog: true})
	if errs := p.ProcessBatch(t.Context(), raws(`{"check":"c","state":"critical"}`)); errs[0] != nil {
		t.Fatal(errs[0])
	}
	if _, err := p.ProcessRaw(t.Context(), []byte(`{"check":"c","state":"critical"}`)); err != nil {
		t.Fatal(err)
	}
	if recs := decisionLog(t, s, "c"); len(recs) != 0 {
		t.Errorf("NoDecisionLog recorded %+v", recs)
	}
}
