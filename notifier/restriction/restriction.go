// Package restriction owns the time restrictions of routing rules: it validates and
// parses a rule's time_restriction_ical (the body of an iCalendar VEVENT: DTSTART,
// DTEND or DURATION, RRULE, EXRULE, RDATE, EXDATE) into an immutable [Restriction]
// and answers whether an instant falls inside one of its occurrences, expanding
// recurrences with go-ical and rrule-go in the event's time zone, or in the
// contact's time zone when the times are floating; [Cache] lets the notifier parse
// each distinct restriction string only once.
package restriction

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-ical"
	"github.com/teambition/rrule-go"
)

// Limits that keep parsing and evaluation bounded for any input.
const (
	maxRules     = 5      // RRULE and EXRULE properties, each
	maxCount     = 100000 // RRULE COUNT
	maxInterval  = 100000 // RRULE INTERVAL
	maxPerPeriod = 50000  // upper bound of occurrences rrule-go generates per period
	maxYear      = 9999   // rrule-go stops iterating after this year
	floatSlack   = 26 * time.Hour
)

// Restriction is a parsed time restriction. It is immutable and safe for
// concurrent use. A nil *Restriction means "no restriction".
type Restriction struct {
	src   string
	zone  *time.Location // event zone (TZID, or UTC for ...Z); nil: floating
	dur   time.Duration  // exact duration of every occurrence, > 0
	start time.Time      // DTSTART: the instant, or the wall clock in UTC when floating

	rules   []*rule // RRULEs; empty: the only occurrences are DTSTART and RDATEs
	exrules []*rule
	rdates  dateList // includes DTSTART when there is no RRULE
	exdates dateList
	exdays  map[int64]struct{} // EXDATE;VALUE=DATE days, as civil day numbers
}

// String returns the iCalendar text the restriction was parsed from.
func (r *Restriction) String() string {
	if r == nil {
		return ""
	}
	return r.src
}

// Duration returns the length of every occurrence (0 for a nil Restriction).
func (r *Restriction) Duration() time.Duration {
	if r == nil {
		return 0
	}
	return r.dur
}

// Floating reports whether the restriction's times carry no time zone, so that
// they are read as wall-clock times of the zone passed to Occurring.
func (r *Restriction) Floating() bool { return r != nil && r.zone == nil }

// Occurring reports whether t falls inside some occurrence [start, start+duration)
// of the restriction. DTSTART with a TZID is expanded in that zone, a UTC (…Z)
// DTSTART in UTC, and a floating DTSTART (no TZID, no Z) in loc, the contact's
// zone (nil means UTC), so that "weekdays 08:00–18:00" is local time wherever the
// contact is. Recurrences keep their wall-clock time across DST changes.
//
// Only occurrences that start in (t-duration, t] are examined, from a recurrence
// start moved up to the rule period just before that window, so the cost does not
// grow with the time elapsed since DTSTART. A nil Restriction is always occurring.
func (r *Restriction) Occurring(t time.Time, loc *time.Location) bool {
	if r == nil {
		return true
	}
	zone := r.zone
	if zone == nil {
		zone = loc
		if zone == nil {
			zone = time.UTC
		}
	}
	t = t.Round(0) // drop any monotonic reading; occurrences carry none
	lo := t.Add(-r.dur)

	keep := keepAll
	if len(r.exrules) > 0 || len(r.exdays) > 0 || len(r.exdates.abs)+len(r.exdates.floating) > 0 {
		keep = r.newExcluder(zone).keep
	}
	if r.rdates.each(lo, t, zone, keep) {
		return true
	}
	for _, ru := range r.rules {
		if ru.each(lo, t, zone, keep) {
			return true
		}
	}
	return false
}

func keepAll(time.Time) bool { return true }

// excluder decides whether occurrence starts are excluded by EXDATE or EXRULE.
// Each source of occurrences queries it in increasing order, so it walks every
// EXRULE forward alongside the queries, restarting when a query goes back.
type excluder struct {
	r    *Restriction
	zone *time.Location
	ex   []exWalk
}

type exWalk struct {
	started bool
	last    time.Time // latest query
	next    rrule.Next
	cur     time.Time
	ok      bool
}

func (r *Restriction) newExcluder(zone *time.Location) *excluder {
	x := &excluder{r: r, zone: zone}
	if len(r.exrules) > 0 {
		x.ex = make([]exWalk, len(r.exrules))
	}
	return x
}

// keep reports whether the occurrence starting at s is not excluded.
func (x *excluder) keep(s time.Time) bool {
	r := x.r
	if r.exdates.contains(s, x.zone) {
		return false
	}
	if len(r.exdays) > 0 {
		if _, ok := r.exdays[dayNumber(wallClock(s, x.zone))]; ok {
			return false
		}
	}
	for i, ru := range r.exrules {
		w := &x.ex[i]
		if !w.started || s.Before(w.last) {
			w.started, w.last = true, s
			w.next = ru.iterator(s.Add(-time.Nanosecond), x.zone)
			w.cur, w.ok = time.Time{}, false
			if w.next != nil {
				w.cur, w.ok = w.next()
			}
		}
		w.last = s
		for w.ok && w.cur.Before(s) {
			w.cur, w.ok = w.next()
		}
		if w.ok && w.cur.Equal(s) {
			return false
		}
	}
	return true
}

// Parse validates a time restriction and returns it. The text is the body of a
// VEVENT; it is valid if wrapping it as BEGIN:VCALENDAR/VERSION:2.0/PRODID/
// BEGIN:VEVENT … END:VEVENT/END:VCALENDAR yields exactly one event with a DTSTART
// and a positive duration given by DTEND or DURATION, and whose RRULE, EXRULE,
// RDATE and EXDATE properties are well formed. LF or CRLF line endings, blank
// lines and surrounding white space are accepted, and so is text that already
// carries the BEGIN:VEVENT/END:VEVENT (or BEGIN:VCALENDAR) lines.
//
// Semantics follow rrule-go (and ice_cube, which produced Flapjack's restrictions):
// when there is an RRULE, DTSTART is an occurrence only if the rule yields it;
// DURATION and DTEND give an exact duration (P1D is 24 hours); EXDATE removes the
// occurrence starting at exactly that time, or, with VALUE=DATE, every occurrence
// starting on that day.
func Parse(text string) (*Restriction, error) {
	cal, err := decode(text)
	if err != nil {
		return nil, err
	}
	events := cal.Events()
	if len(events) != 1 {
		return nil, invalid("expected exactly one VEVENT, found %d", len(events))
	}
	ev := events[0]
	for _, child := range ev.Children {
		if child.Name != ical.CompAlarm {
			return nil, invalid("unexpected BEGIN:%s inside VEVENT", child.Name)
		}
	}
	for _, name := range []string{ical.PropDateTimeStart, ical.PropDateTimeEnd, ical.PropDuration} {
		if n := len(ev.Props[name]); n > 1 {
			return nil, invalid("more than one %s", name)
		}
	}
	for _, name := range []string{ical.PropRecurrenceRule, "EXRULE"} {
		if n := len(ev.Props[name]); n > maxRules {
			return nil, invalid("too many %s properties (%d, at most %d)", name, n, maxRules)
		}
	}

	r := &Restriction{src: text}
	startProp := ev.Props.Get(ical.PropDateTimeStart)
	if startProp == nil {
		return nil, invalid("no DTSTART")
	}
	start, err := parseStart(startProp)
	if err != nil {
		return nil, err
	}
	r.zone, r.start = start.zone, start.t

	if r.dur, err = parseDuration(ev.Component, start); err != nil {
		return nil, err
	}

	for _, p := range ev.Props[ical.PropRecurrenceRule] {
		ru, err := parseRule(p, start)
		if err != nil {
			return nil, err
		}
		if ru != nil {
			r.rules = append(r.rules, ru)
		}
	}
	for _, p := range ev.Props["EXRULE"] {
		ru, err := parseRule(p, start)
		if err != nil {
			return nil, err
		}
		if ru != nil {
			r.exrules = append(r.exrules, ru)
		}
	}

	if len(ev.Props[ical.PropRecurrenceRule]) == 0 {
		r.rdates.add(r.start, r.zone == nil)
	}
	for _, p := range ev.Props[ical.PropRecurrenceDates] {
		if err := parseDates(p, start, func(t time.Time, floating, date bool) {
			r.rdates.add(t, floating)
		}); err != nil {
			return nil, err
		}
	}
	for _, p := range ev.Props[ical.PropExceptionDates] {
		if err := parseDates(p, start, func(t time.Time, floating, date bool) {
			if date {
				if r.exdays == nil {
					r.exdays = make(map[int64]struct{})
				}
				r.exdays[dayNumber(t)] = struct{}{}
				return
			}
			r.exdates.add(t, floating)
		}); err != nil {
			return nil, err
		}
	}
	r.rdates.sort()
	r.exdates.sort()
	return r, nil
}

// invalid returns a validation error; every Parse error starts with "time restriction: ".
func invalid(format string, args ...any) error {
	return fmt.Errorf("time restriction: "+format, args...)
}

// decode wraps text into a calendar as needed and decodes it with go-ical.
func decode(text string) (cal *ical.Calendar, err error) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	var lines []string
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimRight(line, " \t")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if len(lines) == 0 {
			line = strings.TrimLeft(line, " \t")
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, invalid("empty")
	}

	var b strings.Builder
	first := strings.ToUpper(strings.ReplaceAll(lines[0], " ", ""))
	wrapCal := first != "BEGIN:VCALENDAR"
	wrapEvent := wrapCal && first != "BEGIN:VEVENT"
	if wrapCal {
		b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Flapjack//time restriction//EN\r\n")
	}
	if wrapEvent {
		b.WriteString("BEGIN:VEVENT\r\n")
	}
	for _, line := range lines {
		b.WriteString(line)
		b.WriteString("\r\n")
	}
	if wrapEvent {
		b.WriteString("END:VEVENT\r\n")
	}
	if wrapCal {
		b.WriteString("END:VCALENDAR\r\n")
	}

	// go-ical panics on some malformed parameter lists; report them as errors.
	defer func() {
		if p := recover(); p != nil {
			cal, err = nil, invalid("malformed iCalendar: %v", p)
		}
	}()
	dec := ical.NewDecoder(strings.NewReader(b.String()))
	cal, err = dec.Decode()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, invalid("malformed iCalendar: unbalanced BEGIN/END")
		}
		return nil, invalid("malformed iCalendar: %w", err)
	}
	if _, err := dec.Decode(); !errors.Is(err, io.EOF) {
		return nil, invalid("malformed iCalendar: unexpected content after END:%s", cal.Name)
	}
	if wrapCal && !wrapEvent {
		// The text was BEGIN:VEVENT … END:VEVENT: nothing may follow the event.
		if len(cal.Props) != 2 || len(cal.Children) != 1 {
			return nil, invalid("malformed iCalendar: unexpected content after END:VEVENT")
		}
	}
	return cal, nil
}

// startInfo describes DTSTART.
type startInfo struct {
	t    time.Time      // instant, or wall clock in UTC when zone is nil
	zone *time.Location // nil: floating
	date bool           // VALUE=DATE
}

// resolve returns the instant of t for evaluation zone zone.
func (s startInfo) resolve(zone *time.Location) time.Time {
	if s.zone != nil {
		return s.t
	}
	return fromWall(s.t, zone)
}

// kind classifies a date or date-time property value the way go-ical does.
func kind(p *ical.Prop, value string) (date, utc bool) {
	switch p.ValueType() {
	case ical.ValueDate:
		return true, false
	case ical.ValueDateTime:
		return false, strings.HasSuffix(value, "Z")
	default:
		return len(value) == 8, strings.HasSuffix(value, "Z")
	}
}

// parseTime parses one date or date-time value of p. Floating values are returned as
// wall clocks in UTC (floating=true) unless zone is set, in which case they are read
// in zone. Values with TZID or Z are instants.
func parseTime(p *ical.Prop, value string, zone *time.Location) (t time.Time, floating, date bool, err error) {
	q := ical.Prop{Name: p.Name, Params: p.Params, Value: value}
	date, utc := kind(&q, value)
	tzid := p.Params.Get(ical.PropTimezoneID)
	switch {
	case date:
		// A date has no zone: it is the start of that day, floating.
		tzid = ""
		q.Params = ical.Params{ical.ParamValue: []string{string(ical.ValueDate)}}
	case utc:
		tzid = ""
	case tzid != "":
		if tzid == "Local" {
			return time.Time{}, false, false, fmt.Errorf("unknown time zone %s", tzid)
		}
		if _, err := time.LoadLocation(tzid); err != nil {
			return time.Time{}, false, false, err
		}
	}
	floating = !utc && tzid == ""
	loc := time.UTC
	if floating && zone != nil {
		loc = zone
		floating = false
	}
	t, err = q.DateTime(loc)
	if err != nil {
		return time.Time{}, false, false, err
	}
	if y := t.Year(); y < 1 || y > maxYear {
		return time.Time{}, false, false, fmt.Errorf("year %d out of range", y)
	}
	return t, floating, date, nil
}

func parseStart(p *ical.Prop) (startInfo, error) {
	if strings.Contains(p.Value, ",") {
		return startInfo{}, invalid("DTSTART: more than one value")
	}
	t, floating, date, err := parseTime(p, p.Value, nil)
	if err != nil {
		return startInfo{}, invalid("DTSTART: %v", err)
	}
	s := startInfo{t: t, date: date}
	if !floating {
		s.zone = t.Location()
	}
	return s, nil
}

// parseDuration returns the exact occurrence duration from DTEND or DURATION.
func parseDuration(ev *ical.Component, start startInfo) (time.Duration, error) {
	endProp := ev.Props.Get(ical.PropDateTimeEnd)
	durProp := ev.Props.Get(ical.PropDuration)
	switch {
	case endProp != nil && durProp != nil:
		return 0, invalid("both DTEND and DURATION")
	case endProp == nil && durProp == nil:
		return 0, invalid("no DTEND or DURATION")
	case durProp != nil:
		d, err := durProp.Duration()
		if err != nil {
			return 0, invalid("DURATION: %v", err)
		}
		if err := checkDurationRange(durProp.Value); err != nil {
			return 0, invalid("DURATION: %v", err)
		}
		if d <= 0 {
			return 0, invalid("DURATION must be positive, got %s", durProp.Value)
		}
		return d, nil
	}

	if strings.Contains(endProp.Value, ",") {
		return 0, invalid("DTEND: more than one value")
	}
	end, floating, date, err := parseTime(endProp, endProp.Value, start.zone)
	if err != nil {
		return 0, invalid("DTEND: %v", err)
	}
	if date != start.date {
		return 0, invalid("DTEND must have the same value type as DTSTART (DATE or DATE-TIME)")
	}
	if floating != (start.zone == nil) {
		return 0, invalid("DTEND must be floating exactly when DTSTART is")
	}
	d := end.Sub(start.t)
	if d <= 0 {
		return 0, invalid("DTEND must be after DTSTART")
	}
	return d, nil
}

// checkDurationRange rejects DURATION values whose total would overflow
// time.Duration (go-ical does not check).
func checkDurationRange(v string) error {
	var total, n float64
	digits := false
	for _, c := range strings.ToUpper(v) {
		if c >= '0' && c <= '9' {
			n = n*10 + float64(c-'0')
			digits = true
			continue
		}
		if digits {
			unit := map[rune]float64{'W': 7 * 86400, 'D': 86400, 'H': 3600, 'M': 60, 'S': 1}[c]
			total += n * unit
		}
		n, digits = 0, false
	}
	if total*1e9 >= math.MaxInt64 {
		return fmt.Errorf("%s is too long", v)
	}
	return nil
}

// parseDates parses the comma-separated values of an RDATE or EXDATE property.
// Floating values are read in the zone of DTSTART, or stay floating if it is.
func parseDates(p ical.Prop, start startInfo, add func(t time.Time, floating, date bool)) error {
	if p.ValueType() == ical.ValuePeriod {
		return invalid("%s: PERIOD values are not supported", p.Name)
	}
	for v := range strings.SplitSeq(p.Value, ",") {
		v = strings.TrimSpace(v)
		t, floating, date, err := parseTime(&p, v, start.zone)
		if err != nil {
			return invalid("%s: %v", p.Name, err)
		}
		if date {
			// A DATE names a day in the event's zone; t is its wall clock.
			t, floating = wallDate(t), true
		}
		add(t, floating, date)
	}
	return nil
}

// wallDate returns midnight UTC of t's date (t being a wall clock in UTC).
func wallDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// dateList holds RDATE/EXDATE date-times: instants, and floating wall clocks
// (kept as UTC) that become instants only in the evaluation zone.
type dateList struct {
	abs      []time.Time
	floating []time.Time
}

func (l *dateList) add(t time.Time, floating bool) {
	if floating {
		l.floating = append(l.floating, t)
	} else {
		l.abs = append(l.abs, t)
	}
}

func (l *dateList) sort() {
	l.abs = sortedUnique(l.abs)
	l.floating = sortedUnique(l.floating)
}

func sortedUnique(ts []time.Time) []time.Time {
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(ts, time.Time.Equal)
}

// each calls fn, in increasing order of the floating and of the absolute times,
// for every date in (lo, t]; it stops and returns true as soon as fn does.
func (l *dateList) each(lo, t time.Time, zone *time.Location, fn func(time.Time) bool) bool {
	i, _ := slices.BinarySearchFunc(l.abs, lo, cmpTime)
	for ; i < len(l.abs) && !l.abs[i].After(t); i++ {
		if l.abs[i].After(lo) && fn(l.abs[i]) {
			return true
		}
	}
	if len(l.floating) == 0 {
		return false
	}
	// Wall clock and instant differ by the zone offset, which varies; search the
	// wall clocks with slack and check the instants exactly.
	i, _ = slices.BinarySearchFunc(l.floating, wallClock(lo, zone).Add(-floatSlack), cmpTime)
	hi := wallClock(t, zone).Add(floatSlack)
	for ; i < len(l.floating) && !l.floating[i].After(hi); i++ {
		s := fromWall(l.floating[i], zone)
		if s.After(lo) && !s.After(t) && fn(s) {
			return true
		}
	}
	return false
}

// contains reports whether instant s is one of the dates.
func (l *dateList) contains(s time.Time, zone *time.Location) bool {
	if _, ok := slices.BinarySearchFunc(l.abs, s, cmpTime); ok {
		return true
	}
	if len(l.floating) == 0 {
		return false
	}
	w := wallClock(s, zone)
	i, _ := slices.BinarySearchFunc(l.floating, w.Add(-floatSlack), cmpTime)
	for hi := w.Add(floatSlack); i < len(l.floating) && !l.floating[i].After(hi); i++ {
		if fromWall(l.floating[i], zone).Equal(s) {
			return true
		}
	}
	return false
}

func cmpTime(a, b time.Time) int { return a.Compare(b) }

// wallClock returns the wall clock of t in zone, as a UTC time.
func wallClock(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, t.Nanosecond(), time.UTC)
}

// fromWall returns the instant at which zone's clocks show wall clock w (a UTC
// time); a wall clock skipped by a DST change is normalised as by time.Date.
func fromWall(w time.Time, zone *time.Location) time.Time {
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, mo, d, h, mi, s, w.Nanosecond(), zone)
}

// dayNumber returns the number of days from 1970-01-01 to the date of wall clock w.
func dayNumber(w time.Time) int64 {
	return floorDiv(w.Unix(), 86400)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
