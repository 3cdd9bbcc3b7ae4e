// Package filter decides whether an event that the processor has recorded should
// become a notification. A Chain runs filters in order and stops at the first that
// blocks; each filter says why it passed or blocked, so every decision can be
// explained.
//
// The default chain is Ok → ScheduledMaintenance → UnscheduledMaintenance → Delays →
// Acknowledgement, exactly as in Flapjack v2. Programs embedding the processor may
// insert their own Filter anywhere in it.
package filter

import (
	"fmt"
	"slices"
	"time"

	"github.com/x/flapjack"
)

// Input is what a filter looks at for one event. Filters may change Check: the Ok
// filter ends acknowledgements, the Acknowledgement filter creates one.
type Input struct {
	Now   time.Time
	Event *flapjack.Event
	// Condition is the event's condition for service events, NoCondition for
	// actions; Action is the event's action (NoAction for service events).
	Condition flapjack.Condition
	Action    flapjack.Action
	Check     *flapjack.Check
	// OldState is the check's state before this event, nil when it had none.
	OldState *flapjack.State
	// NewState is the state made for this event.
	NewState *flapjack.State
	Delays   Delays
	// NewID makes ids for records a filter creates (maintenance windows).
	NewID func() string
}

// IsService reports whether the event is a check result rather than an action.
func (in *Input) IsService() bool { return in.Action == flapjack.NoAction }

// Delays are the effective delays for one event.
type Delays struct {
	// InitialFailure is how long a check must have been failing before the first
	// problem notification.
	InitialFailure time.Duration
	// RepeatFailure is the least time between two problem notifications.
	RepeatFailure time.Duration
	// InitialRecovery is how long a check must have been ok before the recovery
	// notification.
	InitialRecovery time.Duration
}

// Verdict is a filter's answer.
type Verdict struct {
	Block  bool
	Reason string
}

// Pass lets the event through, saying why.
func Pass(reason string) Verdict { return Verdict{Reason: reason} }

// Block stops the event, saying why.
func Block(reason string) Verdict { return Verdict{Block: true, Reason: reason} }

// Filter is one test an event must pass to become a notification.
type Filter interface {
	// Name identifies the filter in traces and rule tests, e.g. "delays".
	Name() string
	// Apply judges the event. It must not do I/O or read the clock: everything it
	// may use is in the Input.
	Apply(in *Input) Verdict
}

// Func adapts a function to a Filter.
func Func(name string, apply func(in *Input) Verdict) Filter { return funcFilter{name, apply} }

type funcFilter struct {
	name  string
	apply func(in *Input) Verdict
}

func (f funcFilter) Name() string            { return f.name }
func (f funcFilter) Apply(in *Input) Verdict { return f.apply(in) }

// Step is one filter's verdict within a chain run.
type Step struct {
	Filter string
	Verdict
}

// Result is the outcome of a chain run.
type Result struct {
	// BlockedBy names the filter that blocked, empty when the event passed.
	BlockedBy string
	// Steps holds every filter evaluated, in order; filters after a blocking one
	// are not evaluated (nor are their side effects).
	Steps []Step
}

// Passed reports whether no filter blocked.
func (r Result) Passed() bool { return r.BlockedBy == "" }

// Reason is why the event was blocked, or empty.
func (r Result) Reason() string {
	if r.BlockedBy == "" || len(r.Steps) == 0 {
		return ""
	}
	return r.Steps[len(r.Steps)-1].Reason
}

// Chain runs filters in order.
type Chain []Filter

// Default returns Flapjack's chain: Ok, ScheduledMaintenance,
// UnscheduledMaintenance, Delays, Acknowledgement.
func Default() Chain {
	return Chain{Ok{}, ScheduledMaintenance{}, UnscheduledMaintenance{}, DelaysFilter{}, Acknowledgement{}}
}

// Apply runs the chain until a filter blocks.
func (c Chain) Apply(in *Input) Result {
	r := Result{Steps: make([]Step, 0, len(c))}
	for _, f := range c {
		v := f.Apply(in)
		r.Steps = append(r.Steps, Step{Filter: f.Name(), Verdict: v})
		if v.Block {
			r.BlockedBy = f.Name()
			break
		}
	}
	return r
}

// Insert returns a copy of c with f placed before the filter named before, or at the
// end when before is empty. It fails when no filter has that name.
func (c Chain) Insert(before string, f Filter) (Chain, error) {
	if before == "" {
		return append(slices.Clip(c), f), nil
	}
	for i, g := range c {
		if g.Name() == before {
			return slices.Insert(slices.Clone(c), i, f), nil
		}
	}
	return nil, fmt.Errorf("filter chain: no filter named %q", before)
}

// Names lists the filters' names in order.
func (c Chain) Names() []string {
	out := make([]string, len(c))
	for i, f := range c {
		out[i] = f.Name()
	}
	return out
}

// lastNotification returns the most recent entry of the check's latest notifications
// that satisfies keep: by creation time, later entries winning ties.
func lastNotification(c *flapjack.Check, keep func(*flapjack.State) bool) *flapjack.State {
	var best *flapjack.State
	for i := range c.LatestNotifications {
		s := &c.LatestNotifications[i]
		if keep != nil && !keep(s) {
			continue
		}
		if best == nil || !s.CreatedAt.Before(best.CreatedAt) {
			best = s
		}
	}
	return best
}
