package notifier

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier/restriction"
	"github.com/x/flapjack/store"
)

// Router evaluates rules: which media a check's notification goes to, and which
// checks count toward a medium's rollup. It is safe for concurrent use.
type Router struct {
	// DefaultTimezone is used for contacts without a time zone.
	DefaultTimezone *time.Location
	restrictions    restriction.Cache
	zones           sync.Map // zone name → *time.Location or error

	// occurringMu guards occurringMemo, the last answer of each restriction in
	// each zone with the second it holds for: see occurs.
	occurringMu   sync.Mutex
	occurringMemo map[occurringKey]occurringAnswer
}

type occurringKey struct {
	r   *restriction.Restriction
	loc *time.Location
}

type occurringAnswer struct {
	unixSecond int64
	on         bool
}

// maxOccurringMemo bounds occurringMemo; past it the memo starts afresh.
const maxOccurringMemo = 4096

// Match is one rule's part in a routing decision, for traces.
type Match struct {
	Rule  *flapjack.Rule
	Media []string
}

// Routed is the outcome of AlertingMedia.
type Routed struct {
	// Media are the media to alert, sorted by id.
	Media []*flapjack.Medium
	// Accepted and Rejected are the acceptor and blackhole rules that applied.
	Accepted, Rejected []Match
	// Problems lists rules that could not be fully evaluated (a bad time zone or
	// time restriction) and how they were treated.
	Problems []string
}

// AlertingMedia returns the media that a notification of the given severity about
// check should reach at time t: the union of the media of every enabled acceptor
// rule matching the check's tags and the severity and in its time restriction, less
// the media of every blackhole rule that matches the same way. A blackhole removes
// only its own media.
func (r *Router) AlertingMedia(rt *store.Routing, check *flapjack.Check, severity flapjack.Condition, t time.Time) Routed {
	var out Routed
	accepted := map[string]bool{}
	for _, blackhole := range []bool{false, true} {
		for _, rule := range rt.Rules {
			if rule.Blackhole != blackhole || !rule.Enabled || len(rule.MediaIDs) == 0 ||
				!rule.MatchesCondition(severity) || !rule.Strategy.MatchesTags(rule.Tags, check.Tags) {
				continue
			}
			// An unusable time restriction errs toward alerting: an acceptor applies
			// and a blackhole does not, so that a bad rule never silences alerts.
			on, problem := r.occurring(rt, rule, t, !blackhole)
			if problem != "" {
				out.Problems = append(out.Problems, problem)
			}
			if !on {
				continue
			}
			m := Match{Rule: rule, Media: rule.MediaIDs}
			if out.Accepted == nil && !blackhole {
				out.Accepted = make([]Match, 0, min(len(rt.Rules), 8)) // not a few times over
			}
			if blackhole {
				out.Rejected = append(out.Rejected, m)
				for _, id := range rule.MediaIDs {
					delete(accepted, id)
				}
			} else {
				out.Accepted = append(out.Accepted, m)
				for _, id := range rule.MediaIDs {
					accepted[id] = true
				}
			}
		}
		if len(accepted) == 0 {
			break
		}
	}
	for id := range accepted {
		if m, ok := rt.Media[id]; ok {
			if out.Media == nil {
				out.Media = make([]*flapjack.Medium, 0, len(accepted))
			}
			out.Media = append(out.Media, m)
		}
	}
	slices.SortFunc(out.Media, func(a, b *flapjack.Medium) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// RoutesToMedium reports whether medium's rules route check to it at time t, for
// rollup counting: rule conditions are ignored, and a matching blackhole rule of the
// medium removes the check.
func (r *Router) RoutesToMedium(rt *store.Routing, mediumID string, check *flapjack.Check, t time.Time) bool {
	applies := func(rule *flapjack.Rule, blackhole bool) bool {
		if rule.Blackhole != blackhole || !rule.Enabled || !slices.Contains(rule.MediaIDs, mediumID) ||
			!rule.Strategy.MatchesTags(rule.Tags, check.Tags) {
			return false
		}
		on, _ := r.occurring(rt, rule, t, !blackhole)
		return on
	}
	if !slices.ContainsFunc(rt.Rules, func(rule *flapjack.Rule) bool { return applies(rule, false) }) {
		return false
	}
	return !slices.ContainsFunc(rt.Rules, func(rule *flapjack.Rule) bool { return applies(rule, true) })
}

// occurring reports whether rule's time restriction covers t in its contact's zone
// (the default zone when the contact has none or an unknown one). When the
// restriction cannot be used it returns onError. Either problem is described.
func (r *Router) occurring(rt *store.Routing, rule *flapjack.Rule, t time.Time, onError bool) (bool, string) {
	if strings.TrimSpace(rule.TimeRestrictionICal) == "" {
		return true, ""
	}
	res, err := r.restrictions.Get(rule.TimeRestrictionICal)
	if err != nil {
		return onError, fmt.Sprintf("rule %s: %v", rule.ID, err)
	}
	loc, problem := r.location(rt, rule)
	return r.occurs(res, t, loc), problem
}

// occurs returns res.Occurring(t, loc), remembering the answer for the second t
// falls in. Evaluating a recurrence is the costliest step of routing, and a busy
// notifier asks the same question many times a second. The answer cannot change
// within a second: an occurrence starts and ends on a whole second, since
// iCalendar times and durations have no fractions of a second
// (TestOccurringWholeSeconds holds Occurring to that).
func (r *Router) occurs(res *restriction.Restriction, t time.Time, loc *time.Location) bool {
	k, sec := occurringKey{res, loc}, t.Unix()
	r.occurringMu.Lock()
	a, ok := r.occurringMemo[k]
	r.occurringMu.Unlock()
	if ok && a.unixSecond == sec {
		return a.on
	}
	on := res.Occurring(t, loc)
	r.occurringMu.Lock()
	if r.occurringMemo == nil || len(r.occurringMemo) >= maxOccurringMemo {
		r.occurringMemo = make(map[occurringKey]occurringAnswer)
	}
	r.occurringMemo[k] = occurringAnswer{unixSecond: sec, on: on}
	r.occurringMu.Unlock()
	return on
}

func (r *Router) location(rt *store.Routing, rule *flapjack.Rule) (*time.Location, string) {
	def := r.DefaultTimezone
	if def == nil {
		def = time.UTC
	}
	c, ok := rt.Contacts[rule.ContactID]
	if !ok || c.Timezone == "" {
		return def, ""
	}
	v, ok := r.zones.Load(c.Timezone)
	if !ok {
		if loc, err := time.LoadLocation(c.Timezone); err != nil {
			v = fmt.Sprintf("contact %s: unknown time zone %q; using %s", c.ID, c.Timezone, def)
		} else {
			v = loc
		}
		r.zones.Store(c.Timezone, v)
	}
	if loc, ok := v.(*time.Location); ok {
		return loc, ""
	}
	return def, v.(string)
}
