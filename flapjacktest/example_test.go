package flapjacktest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/flapjacktest"
	"github.com/x/flapjack/setup"
)

// Alert rules can be unit-tested from Go: set up contacts, media and rules, feed
// events through the whole pipeline on a fake clock, and look at the alerts that
// reach the gateways. Here the database team gets every database problem by email,
// and critical ones on production databases by sms too.
func Example() {
	ctx := context.Background()
	data := &setup.Data{
		Checks: []setup.Check{{Name: "db1:postgres", Tags: []string{"db", "production"}}},
		Contacts: []setup.Contact{{
			ID: "dba", Name: "Database team", Timezone: "Europe/London",
			Media: []setup.Medium{
				{ID: "dba_email", Transport: "email", Address: "dba@example.com", Interval: 900},
				{ID: "dba_sms", Transport: "sms", Address: "+447700900123", Interval: 3600},
			},
			Rules: []setup.Rule{
				{ID: "db_email", Strategy: "any_tag", Tags: []string{"db"}, Media: []string{"dba_email"}},
				{ID: "prod_db_sms", Strategy: "all_tags", Tags: []string{"db", "production"},
					Conditions: []string{"critical"}, Media: []string{"dba_sms"}},
			},
		}},
	}
	if err := data.Validate(); err != nil {
		panic(err)
	}
	h, err := flapjacktest.New(ctx, flapjacktest.Config{Setup: data})
	if err != nil {
		panic(err)
	}

	event := func(after time.Duration, state string) {
		h.Clock.Advance(after)
		step, err := h.Event(ctx, flapjack.Event{Entity: "db1", Check: "postgres", State: state})
		if err != nil {
			panic(err)
		}
		at := h.Clock.Now().Sub(flapjacktest.DefaultStart)
		if len(step.Alerts) == 0 {
			fmt.Printf("+%-5v %-8s no alert\n", at, state)
		}
		for _, a := range step.Alerts {
			fmt.Printf("+%-5v %-8s %s %s → %s %s\n", at, state, a.Type, a.Condition, a.Transport, a.Address)
		}
	}
	event(0, "ok")
	event(0, "warning")
	event(30*time.Second, "warning")
	event(5*time.Minute, "critical")
	event(time.Minute, "ok")
	// Output:
	// +0s    ok       no alert
	// +0s    warning  no alert
	// +30s   warning  problem warning → email dba@example.com
	// +5m30s critical problem critical → email dba@example.com
	// +5m30s critical problem critical → sms +447700900123
	// +6m30s ok       recovery ok → email dba@example.com
	// +6m30s ok       recovery ok → sms +447700900123
}
