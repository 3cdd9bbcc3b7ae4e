package main

import (
	"strings"
	"testing"
	"time"
)

// mnow is "now" for the maintenance tests: a Wednesday, 14:30 in Rome.
var (
	rome = time.FixedZone("CEST", 2*3600)
	mnow = time.Date(2024, time.May, 15, 14, 30, 0, 0, rome)
)

func TestParseTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"now", mnow},
		{" NOW ", mnow},
		{"2024-06-01T09:00:00Z", time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)},
		{"2024-06-01T09:00:00+05:30", time.Date(2024, 6, 1, 9, 0, 0, 0, time.FixedZone("", 5*3600+1800))},
		{"2024-06-01 09:00", time.Date(2024, 6, 1, 9, 0, 0, 0, rome)},
		{"2024-06-01 09:00:30", time.Date(2024, 6, 1, 9, 0, 30, 0, rome)},
		{"2024-06-01T09:00", time.Date(2024, 6, 1, 9, 0, 0, 0, rome)},
		{"2024-06-01", time.Date(2024, 6, 1, 0, 0, 0, 0, rome)},
		{"09:15", time.Date(2024, 5, 15, 9, 15, 0, 0, rome)},
		{"9:15:20", time.Date(2024, 5, 15, 9, 15, 20, 0, rome)},
		{"9pm", time.Date(2024, 5, 15, 21, 0, 0, 0, rome)},
		{"12am", time.Date(2024, 5, 15, 0, 0, 0, 0, rome)},
		{"12:30 pm", time.Date(2024, 5, 15, 12, 30, 0, 0, rome)},
		{"today", time.Date(2024, 5, 15, 0, 0, 0, 0, rome)},
		{"tomorrow", time.Date(2024, 5, 16, 0, 0, 0, 0, rome)},
		{"tomorrow 09:00", time.Date(2024, 5, 16, 9, 0, 0, 0, rome)},
		{"Tomorrow at 9am", time.Date(2024, 5, 16, 9, 0, 0, 0, rome)},
		{"yesterday at 18:00", time.Date(2024, 5, 14, 18, 0, 0, 0, rome)},
		{"in 10 minutes", mnow.Add(10 * time.Minute)},
		{"in 1h30m", mnow.Add(90 * time.Minute)},
		{"2 hours, 30 minutes from now", mnow.Add(150 * time.Minute)},
		{"3 days ago", mnow.Add(-72 * time.Hour)},
	} {
		got, err := parseTime(tc.in, mnow)
		if err != nil {
			t.Errorf("parseTime(%q): %v", tc.in, err)
			continue
		}
		if !got.Equal(tc.want) {
			t.Errorf("parseTime(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	for _, in := range []string{"", "soon", "9", "25:00", "13pm", "tomorrow at noon", "in a while", "2024-13-01", "next week"} {
		if got, err := parseTime(in, mnow); err == nil || !strings.Contains(err.Error(), `"in 10 minutes"`) {
			t.Errorf("parseTime(%q) = %s, %v; want an error showing the grammar", in, got, err)
		}
	}
}

func TestTimeFilter(t *testing.T) {
	at := func(d time.Duration) time.Time { return mnow.Add(d) }
	for _, tc := range []struct {
		filter string
		future bool // what a bare "more than D" means
		match  []time.Time
		miss   []time.Time
	}{
		{filter: "before 2024-05-15 12:00", match: []time.Time{at(-3 * time.Hour)}, miss: []time.Time{at(-150 * time.Minute), at(time.Hour)}},
		{filter: "after now", match: []time.Time{at(time.Second)}, miss: []time.Time{mnow, at(-time.Second)}},
		{filter: "on today", match: []time.Time{at(-14*time.Hour - 30*time.Minute), at(9*time.Hour + 29*time.Minute)},
			miss: []time.Time{at(-14*time.Hour - 31*time.Minute), at(9*time.Hour + 30*time.Minute)}},
		{filter: "on 2024-05-16", match: []time.Time{at(10 * time.Hour)}, miss: []time.Time{at(time.Hour)}},
		{filter: "between yesterday and tomorrow", match: []time.Time{at(-38*time.Hour - 30*time.Minute), mnow, at(9*time.Hour + 30*time.Minute)},
			miss: []time.Time{at(-39 * time.Hour), at(10 * time.Hour)}},
		{filter: "more than 2 hours ago", match: []time.Time{at(-3 * time.Hour)}, miss: []time.Time{at(-time.Hour), at(3 * time.Hour)}},
		{filter: "more than 2 hours", match: []time.Time{at(-3 * time.Hour)}, miss: []time.Time{at(3 * time.Hour)}},
		{filter: "more than 2 hours", future: true, match: []time.Time{at(3 * time.Hour)}, miss: []time.Time{at(-3 * time.Hour), at(time.Hour)}},
		{filter: "less than 2 hours ago", future: true, match: []time.Time{at(-time.Hour), mnow}, miss: []time.Time{at(-3 * time.Hour), at(time.Minute)}},
		{filter: "more than 1 day from now", match: []time.Time{at(25 * time.Hour)}, miss: []time.Time{at(23 * time.Hour), at(-25 * time.Hour)}},
		{filter: "less than 30 minutes from now", match: []time.Time{mnow, at(29 * time.Minute)}, miss: []time.Time{at(31 * time.Minute), at(-time.Minute)}},
	} {
		f, err := parseTimeFilter(tc.filter, mnow, tc.future)
		if err != nil {
			t.Errorf("parseTimeFilter(%q): %v", tc.filter, err)
			continue
		}
		for _, x := range tc.match {
			if !f(x) {
				t.Errorf("%q (future %t) does not select %s", tc.filter, tc.future, x)
			}
		}
		for _, x := range tc.miss {
			if f(x) {
				t.Errorf("%q (future %t) selects %s", tc.filter, tc.future, x)
			}
		}
	}
	for _, tc := range []struct{ filter, want string }{
		{"yesterday", `use "before T"`},
		{"before soon", `cannot read the time "soon"`},
		{"between now", `use "before T"`},
		{"between tomorrow and yesterday", "is after"},
		{"more 2 hours", `use "before T"`},
		{"less than a while ago", "a while"},
	} {
		if _, err := parseTimeFilter(tc.filter, mnow, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseTimeFilter(%q) = %v, want an error containing %q", tc.filter, err, tc.want)
		}
	}
}

func TestDurationFilter(t *testing.T) {
	h := time.Hour
	for _, tc := range []struct {
		filter      string
		match, miss []time.Duration
	}{
		{"more than 1 hour", []time.Duration{h + time.Second}, []time.Duration{h, 0}},
		{"less than 90 minutes", []time.Duration{h, 0}, []time.Duration{90 * time.Minute, 2 * h}},
		{"equal to 2 hours", []time.Duration{2 * h, 2*h + 400*time.Millisecond}, []time.Duration{2*h + time.Second}},
		{"equal to 7200", []time.Duration{2 * h}, []time.Duration{h}},
		{"between 1 and 3 hours", []time.Duration{h, 2 * h, 3 * h}, []time.Duration{59 * time.Minute, 3*h + time.Second}},
		{"between 30 minutes and 1 day", []time.Duration{30 * time.Minute, 24 * h}, []time.Duration{29 * time.Minute, 25 * h}},
		{"between 1.5 and 2 days", []time.Duration{36 * h}, []time.Duration{35 * h}},
	} {
		f, err := parseDurationFilter(tc.filter)
		if err != nil {
			t.Errorf("parseDurationFilter(%q): %v", tc.filter, err)
			continue
		}
		for _, x := range tc.match {
			if !f(x) {
				t.Errorf("%q does not select %s", tc.filter, x)
			}
		}
		for _, x := range tc.miss {
			if f(x) {
				t.Errorf("%q selects %s", tc.filter, x)
			}
		}
	}
	for _, tc := range []struct{ filter, want string }{
		{"2 hours", `use "more than D"`},
		{"more than forever", "forever"},
		{"between 3 and 1 hours", "is more than"},
		{"between 1 hour", `use "more than D"`},
	} {
		if _, err := parseDurationFilter(tc.filter); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseDurationFilter(%q) = %v, want an error containing %q", tc.filter, err, tc.want)
		}
	}
}
