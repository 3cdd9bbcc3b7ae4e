package flapjacktest_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/flapjacktest"
	"github.com/x/flapjack/setup"
)

// TestScheduledMaintenanceRoundTrips schedules and ends maintenance windows
// repeatedly, including one planned for later that ending deletes: each window must
// stay addressable on its own.
func TestScheduledMaintenanceRoundTrips(t *testing.T) {
	ctx := t.Context()
	h, err := flapjacktest.New(ctx, flapjacktest.Config{Setup: &setup.Data{Checks: []setup.Check{{Name: "app:http"}}}})
	if err != nil {
		t.Fatal(err)
	}
	now := h.Clock.Now()
	// One planned for later, one running now.
	if err := h.ScheduleMaintenance(ctx, "app:http", now.Add(time.Hour), now.Add(2*time.Hour), "later"); err != nil {
		t.Fatal(err)
	}
	if err := h.ScheduleMaintenance(ctx, "app:http", now.Add(-time.Minute), now.Add(time.Hour), "now"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := h.EndScheduledMaintenance(ctx, "app:http"); err != nil {
			t.Fatalf("round %d: ending maintenance: %v", i, err)
		}
		c, _ := h.Check(ctx, "app:http")
		if m, in := c.InScheduledMaintenance(h.Clock.Now().Add(time.Second)); in {
			t.Fatalf("round %d: still in maintenance %+v after ending it", i, m)
		}
		h.Clock.Advance(time.Minute)
		now := h.Clock.Now()
		if err := h.ScheduleMaintenance(ctx, "app:http", now, now.Add(time.Hour), "again"); err != nil {
			t.Fatal(err)
		}
		c, _ = h.Check(ctx, "app:http")
		ids := map[string]bool{}
		for _, m := range c.ScheduledMaintenances {
			if ids[m.ID] {
				t.Fatalf("round %d: two scheduled maintenances share id %q: %+v", i, m.ID, c.ScheduledMaintenances)
			}
			ids[m.ID] = true
		}
	}
}

// TestHarnessPipeline follows one failure through the harness: steps report what
// the processor decided and what reached the gateways.
func TestHarnessPipeline(t *testing.T) {
	ctx := t.Context()
	data := &setup.Data{
		Checks: []setup.Check{{Name: "app:http", Tags: []string{"app"}}},
		Contacts: []setup.Contact{{
			ID: "ops", Name: "Ops",
			Media: []setup.Medium{{ID: "ops_email", Transport: "email", Address: "ops@example.com", Interval: 60}},
			Rules: []setup.Rule{{ID: "apps", Strategy: "any_tag", Tags: []string{"app"}, Media: []string{"ops_email"}}},
		}},
	}
	h, err := flapjacktest.New(ctx, flapjacktest.Config{Setup: data})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		after     time.Duration
		state     string
		blockedBy string
		alerts    []flapjack.AlertType
	}{
		{0, "ok", "", nil},
		{0, "critical", "delays", nil},
		{30 * time.Second, "critical", "", []flapjack.AlertType{flapjack.TypeProblem}},
		{10 * time.Second, "acknowledgement", "", []flapjack.AlertType{flapjack.TypeAcknowledgement}},
		{10 * time.Second, "critical", "unscheduled_maintenance", nil},
		{10 * time.Second, "test_notifications", "unscheduled_maintenance", nil},
		{10 * time.Second, "ok", "", []flapjack.AlertType{flapjack.TypeRecovery}},
		{10 * time.Second, "test_notifications", "", []flapjack.AlertType{flapjack.TypeTest}},
	}
	for i, st := range steps {
		h.Clock.Advance(st.after)
		step, err := h.Event(ctx, flapjack.Event{Check: "app:http", State: st.state})
		if err != nil {
			t.Fatalf("step %d %s: %v", i, st.state, err)
		}
		var got []flapjack.AlertType
		for _, a := range step.Alerts {
			got = append(got, a.Type)
		}
		if step.Processed.BlockedBy != st.blockedBy || len(got) != len(st.alerts) || (len(got) == 1 && got[0] != st.alerts[0]) {
			t.Errorf("step %d %s: blocked by %q, alerts %v; want blocked by %q, alerts %v\ntrace:\n%s",
				i, st.state, step.Processed.BlockedBy, got, st.blockedBy, st.alerts, step.Trace)
		}
	}
	if n := len(h.Alerts()); n != 4 {
		t.Errorf("Alerts() holds %d alerts, want 4", n)
	}
}

// TestExampleRuleFiles keeps the rule-test files shipped as examples passing.
func TestExampleRuleFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "rules", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example rule-test files found")
	}
	var out strings.Builder
	rep := flapjacktest.RunFiles(t.Context(), &out, files...)
	if rep.ExitCode() != 0 || rep.Passed() == 0 {
		t.Errorf("example rule-test files: %d passed, %d failed, %d invalid:\n%s", rep.Passed(), rep.Failed(), len(rep.Invalid), out.String())
	}
}
