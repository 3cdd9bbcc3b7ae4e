package main

import (
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// TestDecisionLogSetting: decision_log = false in [processor] or [notifier]
// keeps that component from writing the check's decision log.
func TestDecisionLogSetting(t *testing.T) {
	for _, c := range []struct {
		name     string
		toml     string
		wantProc bool
		wantNote bool
	}{
		{"default", "", true, true},
		{"processor off", "[processor]\ndecision_log = false\n", false, true},
		{"notifier off", "[notifier]\ndecision_log = false\n", true, false},
		{"both on", "[processor]\ndecision_log = true\n[notifier]\ndecision_log = true\n", true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := parseConfig(t, t.TempDir(), c.toml)
			s, _ := testServer(t, cfg)
			p, err := s.build(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			res, err := p.processor.Process(ctx, flapjack.Event{Check: "web:http", State: "critical",
				InitialFailureDelay: new(int64)})
			if err != nil || res.Notification == nil {
				t.Fatalf("process: %v, notification %v", err, res.Notification)
			}
			if _, err := p.notifier.Notify(ctx, *res.Notification); err != nil {
				t.Fatal(err)
			}
			recs, err := s.st.(store.DecisionLog).Decisions(ctx, res.Check.ID)
			if err != nil {
				t.Fatal(err)
			}
			var proc, note bool
			for _, r := range recs {
				proc = proc || r.Source == flapjack.DecidedByProcessor
				note = note || r.Source == flapjack.DecidedByNotifier
			}
			if proc != c.wantProc || note != c.wantNote {
				t.Errorf("processor recorded %v, notifier %v; want %v, %v", proc, note, c.wantProc, c.wantNote)
			}
		})
	}
}
