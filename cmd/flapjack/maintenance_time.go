package main

// The small language of times and durations the maintenance commands read, in
// place of Flapjack v2's natural-language parser.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/x/flapjack/config"
)

// timeGrammar is shown with every time that cannot be read.
const timeGrammar = `a time is "now"; "2024-05-01T09:00:00Z" (RFC 3339); "2024-05-01 09:00", ` +
	`"2024-05-01" or "09:00" (local time); "today", "tomorrow" or "yesterday", optionally ` +
	`followed by "[at] 09:00" or "9pm"; "in 10 minutes" or "10 minutes from now"; "2 hours ago"`

var (
	clockPattern = regexp.MustCompile(`^(\d{1,2})(?::(\d{2})(?::(\d{2}))?)?\s*(am|pm)?$`)
	dayWords     = map[string]int{"yesterday": -1, "today": 0, "tomorrow": 1}
)

// parseTime reads a point in time, relative to now and in now's location. See
// timeGrammar.
func parseTime(s string, now time.Time) (time.Time, error) {
	text := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if t, ok := readTime(text, now); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("cannot read the time %q: %s", s, timeGrammar)
}

func readTime(text string, now time.Time) (time.Time, bool) {
	loc := now.Location()
	if text == "now" {
		return now, true
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(text)); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02t15:04:05", "2006-01-02t15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, text, loc); err == nil {
			return t, true
		}
	}
	if rest, ok := strings.CutPrefix(text, "in "); ok {
		if d, err := config.ParseDuration(rest); err == nil {
			return now.Add(d), true
		}
	}
	if rest, ok := strings.CutSuffix(text, " from now"); ok {
		if d, err := config.ParseDuration(rest); err == nil {
			return now.Add(d), true
		}
	}
	if rest, ok := strings.CutSuffix(text, " ago"); ok {
		if d, err := config.ParseDuration(rest); err == nil {
			return now.Add(-d), true
		}
	}
	day, clock := 0, text
	if word, rest, _ := strings.Cut(text, " "); dayWords[word] != 0 || word == "today" {
		day = dayWords[word]
		clock = strings.TrimPrefix(rest, "at ")
		if clock == "" {
			clock = "0:00"
		}
	}
	h, m, sec, ok := readClock(clock)
	if !ok {
		return time.Time{}, false
	}
	y, mo, d := now.Date()
	return time.Date(y, mo, d+day, h, m, sec, 0, loc), true
}

// readClock reads "9", "09:30", "09:30:15", "9am", "9:30 pm".
func readClock(s string) (h, m, sec int, ok bool) {
	g := clockPattern.FindStringSubmatch(s)
	if g == nil {
		return 0, 0, 0, false
	}
	h, _ = strconv.Atoi(g[1])
	if g[2] != "" {
		m, _ = strconv.Atoi(g[2])
	}
	if g[3] != "" {
		sec, _ = strconv.Atoi(g[3])
	}
	switch g[4] {
	case "":
		if g[2] == "" { // a bare number is not a clock time
			return 0, 0, 0, false
		}
	case "am", "pm":
		if h < 1 || h > 12 {
			return 0, 0, 0, false
		}
		h %= 12
		if g[4] == "pm" {
			h += 12
		}
	}
	if h > 23 || m > 59 || sec > 59 {
		return 0, 0, 0, false
	}
	return h, m, sec, true
}

// timeFilter selects times. It is read from Flapjack v2's filter expressions:
//
//	before T | after T | on T | between T1 and T2
//	more than D [ago | from now] | less than D [ago | from now]
//
// T is a time (see timeGrammar) and D a duration ("2 hours"). "on" selects T's
// calendar day; "between" includes both ends. "more than 2 hours ago" is before
// now−2h and "less than 2 hours ago" between now−2h and now; "from now" looks
// ahead alike. Without "ago" or "from now", future says which is meant.
type timeFilter func(time.Time) bool

const timeFilterGrammar = `use "before T", "after T", "on T", "between T1 and T2", ` +
	`"more than D ago", "less than D ago", "more than D from now" or "less than D from now", ` +
	`where D is a duration such as "2 hours" and `

func parseTimeFilter(s string, now time.Time, future bool) (timeFilter, error) {
	text := strings.ToLower(strings.Join(strings.Fields(s), " "))
	bad := func(err error) (timeFilter, error) {
		if err == nil {
			return nil, fmt.Errorf("cannot read the filter %q: %s%s", s, timeFilterGrammar, timeGrammar)
		}
		return nil, fmt.Errorf("filter %q: %w", s, err)
	}
	op, rest, _ := strings.Cut(text, " ")
	switch op {
	case "before", "after", "on":
		t, err := parseTime(rest, now)
		if err != nil {
			return bad(err)
		}
		switch op {
		case "before":
			return func(x time.Time) bool { return x.Before(t) }, nil
		case "after":
			return func(x time.Time) bool { return x.After(t) }, nil
		}
		y, m, d := t.In(now.Location()).Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, now.Location())
		end := time.Date(y, m, d+1, 0, 0, 0, 0, now.Location())
		return func(x time.Time) bool { return !x.Before(start) && x.Before(end) }, nil
	case "between":
		a, b, ok := strings.Cut(rest, " and ")
		if !ok {
			return bad(nil)
		}
		from, err := parseTime(a, now)
		if err != nil {
			return bad(err)
		}
		to, err := parseTime(b, now)
		if err != nil {
			return bad(err)
		}
		if to.Before(from) {
			return bad(fmt.Errorf("%s is after %s", a, b))
		}
		return func(x time.Time) bool { return !x.Before(from) && !x.After(to) }, nil
	case "more", "less":
		rest, ok := strings.CutPrefix(rest, "than ")
		if !ok {
			return bad(nil)
		}
		ahead := future
		if r, ok := strings.CutSuffix(rest, " ago"); ok {
			rest, ahead = r, false
		} else if r, ok := strings.CutSuffix(rest, " from now"); ok {
			rest, ahead = r, true
		}
		d, err := config.ParseDuration(rest)
		if err != nil {
			return bad(err)
		}
		switch {
		case op == "more" && ahead:
			limit := now.Add(d)
			return func(x time.Time) bool { return x.After(limit) }, nil
		case op == "more":
			limit := now.Add(-d)
			return func(x time.Time) bool { return x.Before(limit) }, nil
		case ahead:
			limit := now.Add(d)
			return func(x time.Time) bool { return !x.Before(now) && x.Before(limit) }, nil
		default:
			limit := now.Add(-d)
			return func(x time.Time) bool { return x.After(limit) && !x.After(now) }, nil
		}
	}
	return bad(nil)
}

// durationFilter selects durations, read from
//
//	more than D | less than D | equal to D | between M and N <unit> | between D1 and D2
//
// "equal to" compares whole seconds; "between" includes both ends.
type durationFilter func(time.Duration) bool

const durationFilterGrammar = `use "more than D", "less than D", "equal to D", "between 1 and 3 hours" ` +
	`or "between 30 minutes and 2 hours", where D is a duration such as "2 hours", "90 minutes" or "1h30m"`

var leadingNumber = regexp.MustCompile(`^\d+(?:\.\d+)?\s*`)

func parseDurationFilter(s string) (durationFilter, error) {
	text := strings.ToLower(strings.Join(strings.Fields(s), " "))
	bad := func(err error) (durationFilter, error) {
		if err == nil {
			return nil, fmt.Errorf("cannot read the filter %q: %s", s, durationFilterGrammar)
		}
		return nil, fmt.Errorf("filter %q: %w", s, err)
	}
	for _, op := range []string{"more than ", "less than ", "equal to "} {
		rest, ok := strings.CutPrefix(text, op)
		if !ok {
			continue
		}
		d, err := config.ParseDuration(rest)
		if err != nil {
			return bad(err)
		}
		switch op {
		case "more than ":
			return func(x time.Duration) bool { return x > d }, nil
		case "less than ":
			return func(x time.Duration) bool { return x < d }, nil
		}
		return func(x time.Duration) bool { return x.Round(time.Second) == d.Round(time.Second) }, nil
	}
	rest, ok := strings.CutPrefix(text, "between ")
	if !ok {
		return bad(nil)
	}
	a, b, ok := strings.Cut(rest, " and ")
	if !ok {
		return bad(nil)
	}
	if _, err := strconv.ParseFloat(a, 64); err == nil {
		// "between 1 and 3 hours": the unit after the second number is both's.
		if unit := leadingNumber.ReplaceAllString(b, ""); unit != b && unit != "" {
			a += " " + unit
		}
	}
	lo, err := config.ParseDuration(a)
	if err != nil {
		return bad(err)
	}
	hi, err := config.ParseDuration(b)
	if err != nil {
		return bad(err)
	}
	if hi < lo {
		return bad(fmt.Errorf("%s is more than %s", a, b))
	}
	return func(x time.Duration) bool { return x >= lo && x <= hi }, nil
}
