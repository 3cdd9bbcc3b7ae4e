package restriction

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// rule is one RRULE or EXRULE, prepared so that it can be expanded from any of
// its periods instead of from DTSTART.
//
// rrule-go only iterates forward from DTSTART (its Before walks every occurrence
// since then), its *RRule is not safe for concurrent iteration, and its defaults
// (BYHOUR from DTSTART's hour, BYDAY from DTSTART's weekday, …) depend on DTSTART.
// So the defaults are made explicit once, COUNT is turned into the equivalent
// UNTIL, and every evaluation builds a fresh RRule whose DTSTART is the start of
// the last period (in steps of INTERVAL from the original one) that begins no
// later than the window being looked at. Such a rule yields exactly the original
// occurrences from that point on.
type rule struct {
	opts     rrule.ROption // BY* defaults explicit; Dtstart, Count, Until unset
	freq     rrule.Frequency
	interval int64
	wkst     int64 // 0 = Monday, as rrule-go
	start    startInfo
	p0       int64 // period index of DTSTART's wall clock
	weekMod  int64 // WEEKLY: day number of any week start, mod 7

	until         time.Time // zero: unbounded
	untilFloating bool      // until is a wall clock (UTC) of the evaluation zone
}

// parseRule parses an RRULE or EXRULE property. It returns nil, nil for a rule that
// never occurs.
func parseRule(p ical.Prop, start startInfo) (*rule, error) {
	name := p.Name
	value := strings.ToUpper(strings.TrimSpace(p.Value))
	if value == "" {
		return nil, invalid("%s: empty", name)
	}
	var hasCount, hasUntil, hasInterval, untilUTC bool
	for part := range strings.SplitSeq(value, ";") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "DTSTART":
			return nil, invalid("%s: DTSTART is not a rule part", name)
		case "COUNT":
			hasCount = true
		case "INTERVAL":
			hasInterval = true
		case "UNTIL":
			hasUntil, untilUTC = true, strings.HasSuffix(v, "Z")
		}
	}
	if hasCount && hasUntil {
		return nil, invalid("%s: both COUNT and UNTIL", name)
	}
	// A floating UNTIL is read in DTSTART's zone, or stays a wall clock (in UTC).
	untilLoc := time.UTC
	if start.zone != nil {
		untilLoc = start.zone
	}
	o, err := rrule.StrToROptionInLocation(value, untilLoc)
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	switch {
	case hasCount && o.Count <= 0:
		return nil, invalid("%s: COUNT must be positive", name)
	case o.Count > maxCount:
		return nil, invalid("%s: COUNT must be at most %d", name, maxCount)
	case hasInterval && o.Interval <= 0:
		return nil, invalid("%s: INTERVAL must be positive", name)
	case o.Interval > maxInterval:
		return nil, invalid("%s: INTERVAL must be at most %d", name, maxInterval)
	}
	if hasUntil {
		if y := o.Until.Year(); y < 1 || y > maxYear {
			return nil, invalid("%s: UNTIL year %d out of range", name, y)
		}
	}
	o.Dtstart = start.t // instant in its zone, or wall clock in UTC
	orig, err := rrule.NewRRule(*o)
	if err != nil {
		return nil, invalid("%s: %v", name, err)
	}

	wall := start.t
	if start.zone != nil {
		wall = wallClock(start.t, start.zone)
	}
	// rrule-go loops forever when INTERVAL never meets BYHOUR/BYMINUTE/BYSECOND.
	if err := checkReachable(o, wall); err != nil {
		return nil, invalid("%s: %v", name, err)
	}

	opts := orig.Options
	if opts.Freq < rrule.HOURLY && len(opts.Byhour) == 0 {
		opts.Byhour = []int{wall.Hour()}
	}
	if opts.Freq < rrule.MINUTELY && len(opts.Byminute) == 0 {
		opts.Byminute = []int{wall.Minute()}
	}
	if opts.Freq < rrule.SECONDLY && len(opts.Bysecond) == 0 {
		opts.Bysecond = []int{wall.Second()}
	}
	if err := checkPeriodSize(&opts); err != nil {
		return nil, invalid("%s: %v", name, err)
	}
	// A BYSETPOS that selects nothing would make rrule-go walk every period to year 9999.
	if err := checkSetPos(&opts); err != nil {
		return nil, invalid("%s: %v", name, err)
	}

	ru := &rule{
		freq:     opts.Freq,
		interval: int64(max(opts.Interval, 1)),
		wkst:     int64(opts.Wkst.Day()),
		start:    start,
	}
	ru.p0 = ru.period(wall)
	ru.weekMod = floorMod(dayNumber(wall)-floorMod(weekday(wall)-ru.wkst, 7), 7)

	// Probe once from DTSTART: a rule that never occurs would make every later
	// iteration run to year 9999. COUNT becomes the UNTIL of its last occurrence.
	// A floating rule with an absolute UNTIL is probed without it: whether DTSTART
	// precedes UNTIL then depends on the zone it is evaluated in.
	if start.zone == nil && hasUntil && untilUTC {
		probe := *o
		probe.Until = time.Time{}
		if orig, err = rrule.NewRRule(probe); err != nil {
			return nil, invalid("%s: %v", name, err)
		}
	}
	next := orig.Iterator()
	first, ok := next()
	if !ok {
		return nil, nil
	}
	switch {
	case o.Count > 0:
		last := first
		for v, ok := next(); ok; v, ok = next() {
			last = v
		}
		ru.until, ru.untilFloating = last, start.zone == nil
	case hasUntil:
		ru.until, ru.untilFloating = o.Until, start.zone == nil && !untilUTC
	}

	opts.Dtstart, opts.Count, opts.Until = time.Time{}, 0, time.Time{}
	ru.opts = opts
	return ru, nil
}

// checkReachable reports whether rrule-go's HOURLY/MINUTELY/SECONDLY stepping,
// which advances by INTERVAL until BYHOUR/BYMINUTE/BYSECOND match, can ever match.
func checkReachable(o *rrule.ROption, wall time.Time) error {
	var unit, perDay int
	switch o.Freq {
	case rrule.HOURLY:
		unit, perDay = 3600, 24
	case rrule.MINUTELY:
		unit, perDay = 60, 1440
	case rrule.SECONDLY:
		unit, perDay = 1, 86400
	default:
		return nil
	}
	interval := max(o.Interval, 1)
	g := gcd(interval, perDay)
	idx0 := (wall.Hour()*3600 + wall.Minute()*60 + wall.Second()) / unit
	for idx := idx0 % g; idx < perDay; idx += g {
		sec := idx * unit
		if allows(o.Byhour, sec/3600) &&
			(o.Freq < rrule.MINUTELY || allows(o.Byminute, sec/60%60)) &&
			(o.Freq < rrule.SECONDLY || allows(o.Bysecond, sec%60)) {
			return nil
		}
	}
	return fmt.Errorf("INTERVAL=%d from DTSTART never meets BYHOUR/BYMINUTE/BYSECOND", interval)
}

// periodShape returns how many times of day rrule-go combines with each day of a
// period (its "timeset") and the most days a period has, for options whose
// BYHOUR/BYMINUTE/BYSECOND defaults are explicit.
func periodShape(o *rrule.ROption) (times, days float64) {
	times = 1
	switch {
	case o.Freq < rrule.HOURLY:
		times = float64(len(o.Byhour)) * float64(len(o.Byminute)) * float64(len(o.Bysecond))
	case o.Freq == rrule.HOURLY:
		times = float64(len(o.Byminute)) * float64(len(o.Bysecond))
	case o.Freq == rrule.MINUTELY:
		times = float64(len(o.Bysecond))
	}
	days = map[rrule.Frequency]float64{rrule.YEARLY: 366, rrule.MONTHLY: 31, rrule.WEEKLY: 7}[o.Freq]
	if days == 0 {
		days = 1
	}
	return times, days
}

// checkSetPos rejects a BYSETPOS none of whose positions can exist in a period.
func checkSetPos(o *rrule.ROption) error {
	if len(o.Bysetpos) == 0 {
		return nil
	}
	times, days := periodShape(o)
	for _, pos := range o.Bysetpos {
		// rrule-go splits a position into (day, time of day) as divmod(pos-1, times).
		p := float64(pos)
		if pos > 0 && math.Floor((p-1)/times) < days || pos < 0 && -math.Floor(p/times) <= days {
			return nil
		}
	}
	return fmt.Errorf("BYSETPOS never selects an occurrence: a %s period has at most %.0f", o.Freq, times*days)
}

// checkPeriodSize bounds the number of times rrule-go materialises per period.
func checkPeriodSize(o *rrule.ROption) error {
	times, days := periodShape(o)
	if times > maxPerPeriod || (len(o.Bysetpos) == 0 && times*days > maxPerPeriod) {
		return fmt.Errorf("up to %.0f occurrences per %s period, at most %d allowed (use a finer FREQ)",
			times*days, o.Freq, maxPerPeriod)
	}
	return nil
}

func allows(list []int, v int) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// weekday returns w's weekday with Monday = 0, as rrule-go counts.
func weekday(w time.Time) int64 { return int64((int(w.Weekday()) + 6) % 7) }

// period returns the index of the rule period (year, month, week starting on WKST,
// day, hour, minute or second) containing wall clock w.
func (ru *rule) period(w time.Time) int64 {
	switch ru.freq {
	case rrule.YEARLY:
		return int64(w.Year())
	case rrule.MONTHLY:
		return int64(w.Year())*12 + int64(w.Month()) - 1
	case rrule.WEEKLY:
		d := dayNumber(w)
		return floorDiv(d-floorMod(weekday(w)-ru.wkst, 7), 7)
	case rrule.DAILY:
		return dayNumber(w)
	case rrule.HOURLY:
		return floorDiv(w.Unix(), 3600)
	case rrule.MINUTELY:
		return floorDiv(w.Unix(), 60)
	default:
		return w.Unix()
	}
}

// periodStart returns the wall clock (in UTC) at which period p begins.
func (ru *rule) periodStart(p int64) time.Time {
	switch ru.freq {
	case rrule.YEARLY:
		return time.Date(int(p), time.January, 1, 0, 0, 0, 0, time.UTC)
	case rrule.MONTHLY:
		return time.Date(int(floorDiv(p, 12)), time.Month(floorMod(p, 12)+1), 1, 0, 0, 0, 0, time.UTC)
	case rrule.WEEKLY:
		return time.Unix((p*7+ru.weekMod)*86400, 0).UTC()
	case rrule.DAILY:
		return time.Unix(p*86400, 0).UTC()
	case rrule.HOURLY:
		return time.Unix(p*3600, 0).UTC()
	case rrule.MINUTELY:
		return time.Unix(p*60, 0).UTC()
	default:
		return time.Unix(p, 0).UTC()
	}
}

// rebase returns the DTSTART to expand from so that every occurrence after lo is
// produced: the start of the latest period aligned on INTERVAL that begins at or
// before lo, or the original dtstart.
func (ru *rule) rebase(lo, dtstart time.Time, zone *time.Location) time.Time {
	if !lo.After(dtstart) {
		return dtstart
	}
	w := wallClock(lo, zone)
	for range 8 {
		k := floorDiv(ru.period(w)-ru.p0, ru.interval)
		if k <= 0 {
			break
		}
		pw := ru.periodStart(ru.p0 + k*ru.interval)
		ps := fromWall(pw, zone)
		// The period must start at a wall clock that exists (not skipped by DST,
		// which rrule-go would shift) and no later than lo (mind repeated hours).
		if ps.After(dtstart) && !ps.After(lo) && wallClock(ps, zone).Equal(pw) {
			return ps
		}
		w = pw.Add(-3 * time.Hour)
	}
	return dtstart
}

func (ru *rule) untilIn(zone *time.Location) time.Time {
	if ru.untilFloating {
		return fromWall(ru.until, zone)
	}
	return ru.until
}

// iterator returns a fresh rrule-go iterator yielding (at least) every occurrence
// after lo in increasing order, or nil if there is none.
func (ru *rule) iterator(lo time.Time, zone *time.Location) rrule.Next {
	until := ru.untilIn(zone)
	if !until.IsZero() && !lo.Before(until) {
		return nil
	}
	o := ru.opts
	o.Dtstart = ru.rebase(lo, ru.start.resolve(zone), zone)
	o.Until = until
	rr, err := rrule.NewRRule(o)
	if err != nil { // validated by Parse
		return nil
	}
	return rr.Iterator()
}

// each calls fn for the occurrences starting in (lo, t] in increasing order and
// returns true as soon as fn does.
func (ru *rule) each(lo, t time.Time, zone *time.Location, fn func(time.Time) bool) bool {
	if t.Before(ru.start.resolve(zone)) {
		return false
	}
	next := ru.iterator(lo, zone)
	if next == nil {
		return false
	}
	for s, ok := next(); ok && !s.After(t); s, ok = next() {
		if s.After(lo) && fn(s) {
			return true
		}
	}
	return false
}
