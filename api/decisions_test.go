package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/flapjacktest"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store"
)

func TestDecisions(t *testing.T) {
	stores(t, func(t *testing.T, st store.Store) {
		c := newClient(t, st)
		ctx := t.Context()
		contact := c.create("/contacts", `{"type":"contact","attributes":{"name":"Ada"}}`)
		medium := c.create("/media", `{"type":"medium","attributes":{"transport":"email","address":"ada@example.com","interval":60},
			"relationships":{"contact":{"data":{"type":"contact","id":"`+contact+`"}}}}`)
		c.create("/rules", `{"type":"rule","attributes":{"enabled":true,"blackhole":false,"strategy":"global"},
			"relationships":{"contact":{"data":{"type":"contact","id":"`+contact+`"}},"media":{"data":[{"type":"medium","id":"`+medium+`"}]}}}`)

		clock := flapjacktest.NewClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
		p := processor.New(st, processor.Options{Clock: clock, Instance: "test"})
		n := notifier.New(st, notifier.Options{Clock: clock})
		event := func(after time.Duration, state string) {
			t.Helper()
			clock.Advance(after)
			res, err := p.Process(ctx, flapjack.Event{Entity: "db1", Check: "disk", State: state, Summary: "disk " + state})
			if err != nil {
				t.Fatal(err)
			}
			if res.Notification != nil {
				if _, err := n.Notify(ctx, *res.Notification); err != nil {
					t.Fatal(err)
				}
			}
		}
		event(0, "critical")
		event(40*time.Second, "critical")

		check, err := st.Check(ctx, "db1:disk")
		if err != nil {
			t.Fatal(err)
		}
		r := c.get("/checks/" + check.ID + "/decisions")
		recs := data(r)
		if len(recs) != 3 {
			t.Fatalf("%d decisions: %s", len(recs), r.body)
		}
		wantExplained := []string{
			"A problem notification alerted Ada by email.",
			"A critical result made a problem notification.",
			"A critical result made no notification: just failed; initial failure delay is 30s.",
		}
		for i, d := range recs {
			a := attrs(d)
			if a["explanation"] != wantExplained[i] {
				t.Errorf("decision %d explanation = %q, want %q", i, a["explanation"], wantExplained[i])
			}
			if d.(map[string]any)["type"] != "decision" {
				t.Errorf("decision %d type = %v", i, d.(map[string]any)["type"])
			}
		}
		first := attrs(recs[2])
		if first["time"] != "2026-05-01T08:00:00Z" || first["count"] != float64(1) || first["blocked_by"] != "delays" ||
			first["source"] != "processor" || first["outcome"] != "no notification" {
			t.Errorf("first decision = %v", first)
		}
		alerts := attrs(recs[0])["alerts"].([]any)
		if len(alerts) != 1 || alerts[0].(map[string]any)["medium_id"] != medium || alerts[0].(map[string]any)["contact_name"] != "Ada" {
			t.Errorf("alerts = %v", alerts)
		}
		if strings.Contains(r.body, "ada@example.com") {
			t.Error("the decision log shows a medium's address")
		}
		trace := attrs(recs[2])["trace"].([]any)
		if len(trace) == 0 || trace[len(trace)-1].(map[string]any)["stage"] != "filter:delays" {
			t.Errorf("trace = %v", trace)
		}

		// A check with no decisions yet, an unknown check, a wrong method.
		other, err := st.UpdateCheck(ctx, "quiet", true, func(*store.CheckUpdate) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if r := c.get("/checks/" + other.ID + "/decisions"); len(data(r)) != 0 {
			t.Errorf("a new check has decisions: %s", r.body)
		}
		r = c.do(http.MethodGet, "/checks/00000000-0000-4000-8000-000000000000/decisions", "", "")
		c.want(r, http.StatusNotFound, "GET", "unknown check's decisions")
		r = c.do(http.MethodDelete, "/checks/"+check.ID+"/decisions", "", "")
		c.want(r, http.StatusMethodNotAllowed, "DELETE", "decisions")
	})
}
