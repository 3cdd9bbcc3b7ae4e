package processor_test

import (
	"context"
	"fmt"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store/memory"
)

// A monitoring agent embeds the processor: it builds events in Go and hands them
// over directly, with no queue in between. Here the agent checks every 10 s; the
// service fails at +10s and is back at +110s. With the default delays the first
// problem waits until the check has failed for 30 s, the next one until more than
// 60 s after it, and the recovery is immediate.
func Example() {
	ctx := context.Background()
	start := time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)
	now := start
	p := processor.New(memory.New(), processor.Options{
		Clock: flapjack.ClockFunc(func() time.Time { return now }), // a fake clock, moved below
	})

	for sec := 0; sec <= 120; sec += 10 {
		now = start.Add(time.Duration(sec) * time.Second)
		state := "ok"
		if sec >= 10 && sec < 110 {
			state = "critical"
		}
		res, err := p.Process(ctx, flapjack.Event{Entity: "db1", Check: "replication", State: state, Summary: "lag check"})
		if err != nil {
			panic(err)
		}
		switch n := res.Notification; {
		case n != nil:
			fmt.Printf("+%3ds %-8s → %s, severity %s\n", sec, state, n.Type(), n.Severity)
		case res.BlockedBy != "":
			fmt.Printf("+%3ds %-8s blocked by %s\n", sec, state, res.BlockedBy)
		default:
			fmt.Printf("+%3ds %-8s recorded\n", sec, state)
		}
	}
	// Output:
	// +  0s ok       recorded
	// + 10s critical blocked by delays
	// + 20s critical blocked by delays
	// + 30s critical blocked by delays
	// + 40s critical → problem, severity critical
	// + 50s critical blocked by delays
	// + 60s critical blocked by delays
	// + 70s critical blocked by delays
	// + 80s critical blocked by delays
	// + 90s critical blocked by delays
	// +100s critical blocked by delays
	// +110s ok       → recovery, severity critical
	// +120s ok       blocked by ok
}

// Decide is the processor's whole decision as a pure function of the check record,
// the event and the time: no store, no clock. Its trace says why.
func ExampleDecide() {
	check := flapjack.Check{Name: "db1:replication", Enabled: true}
	start := time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)
	var d processor.Decision
	for i, state := range []string{"ok", "critical", "critical"} {
		ev := flapjack.Event{Check: check.Name, State: state}
		d = processor.Decide(processor.Input{
			Check: &check, Created: i == 0, Event: &ev,
			Now: start.Add(time.Duration(i) * 30 * time.Second),
		})
	}
	fmt.Println(d.Trace)
	fmt.Println("notifications so far:", check.NotificationCount)
	// Output:
	// filter:ok: pass — not an ok result
	// filter:scheduled_maintenance: pass — not in scheduled maintenance
	// filter:unscheduled_maintenance: pass — not in unscheduled maintenance
	// filter:delays: pass — failing for 30s
	// filter:acknowledgement: pass — not an acknowledgement
	// notification: problem — severity critical
	// notifications so far: 1
}
