package client_test

import (
	"net/http"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
)

func TestDecisions(t *testing.T) {
	c, st := setup(t)
	ctx := t.Context()
	p := processor.New(st, processor.Options{})
	for range 2 {
		if _, err := p.Process(ctx, flapjack.Event{Check: "db1:disk", State: "warning", Summary: "80% full"}); err != nil {
			t.Fatal(err)
		}
	}
	check, err := st.Check(ctx, "db1:disk")
	ok(t, err)
	ds, err := c.Decisions(ctx, check.ID)
	ok(t, err)
	if len(ds) != 1 {
		t.Fatalf("%d decisions, want 1", len(ds))
	}
	d := ds[0]
	if d.Source != "processor" || d.Event != "warning" || d.Count != 2 || d.BlockedBy != "delays" ||
		d.Summary != "80% full" || d.Time.IsZero() || d.Last.Before(d.Time) || len(d.Trace) == 0 {
		t.Errorf("decision = %+v", d)
	}
	if want := "A warning result made no notification"; len(d.Explanation) < len(want) || d.Explanation[:len(want)] != want {
		t.Errorf("explanation %q", d.Explanation)
	}
	_, err = c.Decisions(ctx, "00000000-0000-4000-8000-000000000000")
	wantErr(t, err, http.StatusNotFound, "could not find Check record")
}
