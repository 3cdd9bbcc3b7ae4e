package oobetet_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/oobetet"
)

// wait bounds every wait of these tests.
const wait = 5 * time.Second

// runner runs an oobetet in the background with a fake clock, room, ticker and
// HTTP PagerDuty.
type runner struct {
	t     *testing.T
	clock *clock
	room  *room
	pd    *pd
	ticks chan time.Time
	o     *oobetet.Oobetet
	stop  context.CancelFunc
	done  chan error
}

func startRunner(t *testing.T, withRoom bool) *runner {
	t.Helper()
	r := &runner{t: t, clock: newClock(), pd: newPD(t), ticks: make(chan time.Time), done: make(chan error, 1)}
	opts := oobetet.Options{Clock: r.clock, Pager: r.pd.pager(), Ticks: r.ticks}
	if withRoom {
		r.room = newRoom()
		opts.Room = r.room
	}
	r.o = newOobetet(t, opts)
	// A later start: Run sets the times afresh.
	r.clock.Set(start.Add(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	go func() { r.done <- r.o.Run(ctx) }()
	r.tick() // returns once Run has started
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(wait):
			t.Error("Run did not stop")
		}
	})
	return r
}

// at sets the clock to the start of Run plus d.
func (r *runner) at(d time.Duration) time.Time {
	t := start.Add(time.Hour + d)
	r.clock.Set(t)
	return t
}

// say hands the oobetet a room message; it returns once Run has handled it:
// Run takes the next message (here an empty one) only when done with this one.
func (r *runner) say(m oobetet.Message) {
	r.t.Helper()
	for _, m := range []oobetet.Message{m, {}} {
		select {
		case r.room.msgs <- m:
		case <-time.After(wait):
			r.t.Fatal("Run does not read the room's messages")
		}
	}
}

// tick makes Run evaluate, and returns once it has: Run takes the next tick
// (or message) only when done with this one.
func (r *runner) tick() {
	r.t.Helper()
	for range 2 {
		select {
		case r.ticks <- r.clock.Now():
		case <-time.After(wait):
			r.t.Fatal("Run does not tick")
		}
	}
}

func TestRun(t *testing.T) {
	r := startRunner(t, true)
	s := func(n int) time.Duration { return time.Duration(n) * time.Second }
	alert := func(kind string) oobetet.Message {
		return oobetet.Message{Room: "ops", From: "flapjack", Body: kind + `: "` + check + `" is whatever`}
	}

	r.at(s(100))
	r.say(alert("Problem"))
	r.at(s(200))
	r.say(alert("RECOVERY"))
	r.at(s(250))
	r.say(oobetet.Message{From: "oobetet", Body: alert("problem").Body, Self: true}) // its own: ignored
	r.say(oobetet.Message{From: "flapjack", Body: `Problem: "app-01:HTTP" is Critical`})
	r.say(oobetet.Message{From: "ops", Body: "Problem with " + check + "?"})
	r.say(oobetet.Message{From: "ops", Body: `acknowledgement: "` + check + `"`})
	r.at(s(400))
	r.tick() // the problem is exactly 300 s old: fine
	if got, want := r.room.take(), []string{"flapjack oobetet gateway started at 2013-02-01 13:00:00 +0000, hello!"}; !slices.Equal(got, want) {
		t.Errorf("rooms heard %q; want %q", got, want)
	}
	if got := r.o.Last(oobetet.Acknowledgement); !got.Equal(start.Add(time.Hour + s(250))) {
		t.Errorf("last acknowledgement %v", got)
	}

	breach := r.at(s(401))
	r.tick()
	if got, want := r.room.take(), []string{critical(problemBreach, breach)}; !slices.Equal(got, want) {
		t.Errorf("rooms heard %q; want %q", got, want)
	}
	if got, want := r.pd.take(), []string{fmt.Sprintf(triggerBody, critical(problemBreach, breach))}; !slices.Equal(got, want) {
		t.Errorf("PagerDuty got\n%q\nwant\n%q", got, want)
	}

	for _, n := range []int{411, 421, 431, 441, 451} {
		r.at(s(n))
		r.tick()
	}
	if said, paged := r.room.take(), r.pd.take(); len(said)+len(paged) > 0 {
		t.Errorf("throttled, yet rooms heard %q and PagerDuty got %q", said, paged)
	}

	r.at(s(455))
	r.say(alert("Problem"))
	r.tick() // the recovery is 255 s old: cleared
	if got, want := r.room.take(), []string{oobetet.OKText}; !slices.Equal(got, want) {
		t.Errorf("rooms heard %q; want %q", got, want)
	}
	if got, want := r.pd.take(), []string{resolveBody}; !slices.Equal(got, want) {
		t.Errorf("PagerDuty got\n%q\nwant\n%q", got, want)
	}

	r.stop()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Errorf("Run() = %v", err)
		}
	case <-time.After(wait):
		t.Fatal("Run did not stop when its context ended")
	}
}

// Without a room, or once the room's messages end, the silence still reaches
// the pager.
func TestRunPagesWithoutRoom(t *testing.T) {
	for _, tc := range []struct {
		name     string
		withRoom bool
	}{{"no room", false}, {"room closed", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRunner(t, tc.withRoom)
			if tc.withRoom {
				close(r.room.msgs)
			}
			breach := r.at(301 * time.Second)
			r.tick()
			if got, want := r.pd.take(), []string{fmt.Sprintf(triggerBody, critical(problemBreach, breach))}; !slices.Equal(got, want) {
				t.Errorf("PagerDuty got\n%q\nwant\n%q", got, want)
			}
		})
	}
}

// blockingRoom's Say blocks until its context ends.
type blockingRoom struct{ saying chan struct{} }

func (b blockingRoom) Messages() <-chan oobetet.Message { return nil }

func (b blockingRoom) Say(ctx context.Context, _ string) error {
	b.saying <- struct{}{}
	<-ctx.Done()
	return ctx.Err()
}

func TestRunStopsPromptly(t *testing.T) {
	for _, tc := range []struct {
		name string
		room oobetet.Room
		wait func(blockingRoom)
	}{
		{"idle", newRoom(), nil},
		{"blocked greeting the rooms", blockingRoom{make(chan struct{}, 1)}, func(b blockingRoom) { <-b.saying }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOobetet(t, oobetet.Options{Clock: newClock(), Room: tc.room, Tick: time.Hour})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- o.Run(ctx) }()
			if tc.wait != nil {
				tc.wait(tc.room.(blockingRoom))
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run() = %v", err)
				}
			case <-time.After(wait):
				t.Fatal("Run did not stop when its context ended")
			}
		})
	}
	// An already ended context.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	o := newOobetet(t, oobetet.Options{Clock: newClock(), Room: newRoom()})
	if err := o.Run(ctx); err != nil {
		t.Errorf("Run() = %v", err)
	}
}

// The default ticker, at a short period, drives the evaluations.
func TestRunRealTicker(t *testing.T) {
	c := newClock()
	r := newRoom()
	o := newOobetet(t, oobetet.Options{Clock: c, Room: r, Tick: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run() = %v", err)
		}
	}()
	// Wait for the greeting, then move the clock past the maximum latency.
	deadline := time.Now().Add(wait)
	var heard []string
	for !slices.ContainsFunc(heard, func(s string) bool { return strings.HasPrefix(s, "flapjack oobetet gateway started") }) {
		if time.Now().After(deadline) {
			t.Fatalf("no greeting; rooms heard %q", heard)
		}
		heard = append(heard, r.take()...)
		time.Sleep(time.Millisecond)
	}
	c.Set(start.Add(time.Hour))
	for !slices.ContainsFunc(heard, func(s string) bool { return strings.HasPrefix(s, "Flapjack Self Monitoring is Critical") }) {
		if time.Now().After(deadline) {
			t.Fatalf("no alarm; rooms heard %q", heard)
		}
		heard = append(heard, r.take()...)
		time.Sleep(time.Millisecond)
	}
}
