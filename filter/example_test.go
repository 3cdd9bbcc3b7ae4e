package filter_test

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/filter"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/store/memory"
)

// A custom filter keeps development checks quiet: every event about a check named
// "*:dev*" is blocked, whatever its state. It is inserted before the delays filter,
// so maintenance and acknowledgements still work as usual for it.
func ExampleChain_Insert() {
	development := filter.Func("development", func(in *filter.Input) filter.Verdict {
		if dev, _ := path.Match("*:dev*", in.Check.Name); dev {
			return filter.Block("development checks never alert")
		}
		return filter.Pass("not a development check")
	})
	chain, err := filter.Default().Insert(filter.NameDelays, development)
	if err != nil {
		panic(err)
	}
	fmt.Println(strings.Join(chain.Names(), " → "))

	// A fake clock: the example moves time by hand.
	start := time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)
	now := start
	p := processor.New(memory.New(), processor.Options{
		Filters: chain,
		Clock:   flapjack.ClockFunc(func() time.Time { return now }),
	})

	for _, ev := range []struct {
		at           time.Duration
		check, state string
	}{
		{0, "web1:http", "ok"},
		{0, "web1:dev-http", "ok"},
		{0, "web1:http", "critical"},
		{0, "web1:dev-http", "critical"},
		{30 * time.Second, "web1:http", "critical"},
		{30 * time.Second, "web1:dev-http", "critical"},
	} {
		now = start.Add(ev.at)
		res, err := p.Process(context.Background(), flapjack.Event{Check: ev.check, State: ev.state})
		if err != nil {
			panic(err)
		}
		outcome := "recorded"
		switch {
		case res.Notification != nil:
			outcome = fmt.Sprintf("%s notification, severity %s", res.Notification.Type(), res.Notification.Severity)
		case res.BlockedBy != "":
			outcome = "blocked by " + res.BlockedBy
		}
		fmt.Printf("+%-4v %-14s %-9s %s\n", ev.at, ev.check, ev.state, outcome)
	}
	// Output:
	// ok → scheduled_maintenance → unscheduled_maintenance → development → delays → acknowledgement
	// +0s   web1:http      ok        recorded
	// +0s   web1:dev-http  ok        recorded
	// +0s   web1:http      critical  blocked by delays
	// +0s   web1:dev-http  critical  blocked by development
	// +30s  web1:http      critical  problem notification, severity critical
	// +30s  web1:dev-http  critical  blocked by development
}
