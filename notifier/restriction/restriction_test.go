package restriction_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo

	"github.com/teambition/rrule-go"
	"github.com/x/flapjack/notifier/restriction"
)

const weekdays = "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustParse(t testing.TB, text string) *restriction.Restriction {
	t.Helper()
	r, err := restriction.Parse(text)
	if err != nil {
		t.Fatalf("Parse(%q): %v", text, err)
	}
	return r
}

// at returns the instant at which loc's clocks show s ("2006-01-02 15:04[:05]").
func at(t testing.TB, loc *time.Location, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout += ":05"
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

type probe struct {
	local string // wall clock in the zone under test
	want  bool
}

// friday is the "8-18 weekdays" table, local times around Friday 2013-02-01.
var friday = []probe{
	{"2013-02-01 06:59", false},
	{"2013-02-01 07:01", false},
	{"2013-02-01 07:59:59", false},
	{"2013-02-01 08:00", true},
	{"2013-02-01 08:01", true},
	{"2013-02-01 12:00", true},
	{"2013-02-01 17:59", true},
	{"2013-02-01 17:59:59", true},
	{"2013-02-01 18:00", false},
	{"2013-02-01 18:01", false},
	{"2013-02-02 12:00", false}, // Saturday
	{"2013-02-03 12:00", false}, // Sunday
	{"2013-02-04 12:00", true},  // Monday
	{"2013-01-31 12:00", false}, // before DTSTART
	{"2031-07-04 12:00", true},  // a Friday, years later
	{"2031-07-05 12:00", false}, // a Saturday
}

func TestOccurringWeekdays(t *testing.T) {
	for _, zone := range []string{"Asia/Baghdad", "Europe/Rome"} {
		loc := mustLoad(t, zone)
		other := mustLoad(t, "America/Los_Angeles")
		forms := map[string]string{
			"DURATION": fmt.Sprintf("DTSTART;TZID=%s:20130201T080000\nDURATION:PT10H\n%s", zone, weekdays),
			"DTEND":    fmt.Sprintf("DTSTART;TZID=%s:20130201T080000\nDTEND;TZID=%s:20130201T180000\n%s", zone, zone, weekdays),
			"floating": "DTSTART:20130201T080000\nDURATION:PT10H\n" + weekdays,
		}
		for form, text := range forms {
			r := mustParse(t, text)
			if got, want := r.Floating(), form == "floating"; got != want {
				t.Errorf("%s %s: Floating() = %v", zone, form, got)
			}
			for _, p := range friday {
				ts := at(t, loc, p.local)
				if got := r.Occurring(ts, loc); got != p.want {
					t.Errorf("%s %s: Occurring(%s local) = %v, want %v", zone, form, p.local, got, p.want)
				}
				// A TZID restriction does not depend on the contact's zone.
				if form != "floating" {
					if got := r.Occurring(ts, other); got != p.want {
						t.Errorf("%s %s: Occurring(%s local, Los Angeles) = %v, want %v", zone, form, p.local, got, p.want)
					}
				}
			}
		}
	}
}

func TestFloatingFollowsContactZone(t *testing.T) {
	r := mustParse(t, "DTSTART:20130201T080000\nDURATION:PT10H\n"+weekdays)
	baghdad, rome := mustLoad(t, "Asia/Baghdad"), mustLoad(t, "Europe/Rome")
	tests := []struct {
		utc        string
		loc        *time.Location
		want       bool
		reasonable string
	}{
		{"2013-02-01 05:30", baghdad, true, "08:30 in Baghdad"},
		{"2013-02-01 05:30", rome, false, "06:30 in Rome"},
		{"2013-02-01 07:30", rome, true, "08:30 in Rome"},
		{"2013-02-01 15:30", baghdad, false, "18:30 in Baghdad"},
		{"2013-02-01 15:30", rome, true, "16:30 in Rome"},
		{"2013-02-01 08:30", nil, true, "nil zone is UTC: 08:30"},
		{"2013-02-01 07:30", nil, false, "nil zone is UTC: 07:30"},
	}
	for _, tt := range tests {
		if got := r.Occurring(at(t, time.UTC, tt.utc), tt.loc); got != tt.want {
			t.Errorf("Occurring(%s UTC = %s) = %v, want %v", tt.utc, tt.reasonable, got, tt.want)
		}
	}
}

func TestUTCStartIsAbsolute(t *testing.T) {
	r := mustParse(t, "DTSTART:20130201T080000Z\nDURATION:PT10H\n"+weekdays)
	rome := mustLoad(t, "Europe/Rome")
	for _, p := range []probe{
		{"2013-02-01 08:30", false}, // 07:30 UTC
		{"2013-02-01 09:00", true},  // 08:00 UTC
		{"2013-02-01 18:30", true},  // 17:30 UTC
		{"2013-02-01 19:00", false}, // 18:00 UTC
	} {
		if got := r.Occurring(at(t, rome, p.local), rome); got != p.want {
			t.Errorf("Occurring(%s Rome) = %v, want %v", p.local, got, p.want)
		}
	}
}

func TestDST(t *testing.T) {
	tests := []struct {
		zone string
		days []string // DST change days (and neighbours)
	}{
		{"Europe/Rome", []string{"2013-03-30", "2013-03-31", "2013-04-01", "2013-10-26", "2013-10-27", "2013-10-28"}},
		{"America/New_York", []string{"2013-03-09", "2013-03-10", "2013-03-11", "2013-11-03"}},
		{"Australia/Lord_Howe", []string{"2013-04-07", "2013-10-06"}}, // 30-minute DST
	}
	for _, tt := range tests {
		loc := mustLoad(t, tt.zone)
		texts := []string{
			fmt.Sprintf("DTSTART;TZID=%s:20130101T080000\nDURATION:PT10H\nRRULE:FREQ=DAILY", tt.zone),
			fmt.Sprintf("DTSTART;TZID=%s:20130101T080000\nDTEND;TZID=%s:20130101T180000\nRRULE:FREQ=DAILY", tt.zone, tt.zone),
			"DTSTART:20130101T080000\nDURATION:PT10H\nRRULE:FREQ=DAILY",
		}
		for _, text := range texts {
			r := mustParse(t, text)
			for _, day := range tt.days {
				for _, p := range []probe{
					{"07:59:59", false}, {"08:00", true}, {"08:01", true},
					{"17:59", true}, {"18:00", false}, {"18:01", false},
				} {
					ts := at(t, loc, day+" "+p.local)
					if got := r.Occurring(ts, loc); got != p.want {
						t.Errorf("%q: Occurring(%s %s %s) = %v, want %v", text, day, p.local, tt.zone, got, p.want)
					}
				}
			}
		}
	}

	// An hourly rule across the spring-forward gap in Rome (02:00–03:00 missing).
	rome := mustLoad(t, "Europe/Rome")
	r := mustParse(t, "DTSTART;TZID=Europe/Rome:20130330T000000\nDURATION:PT10M\nRRULE:FREQ=HOURLY;INTERVAL=2")
	for _, p := range []probe{
		{"2013-03-31 00:05", true},
		{"2013-03-31 01:05", false},
		{"2013-03-31 04:05", true},
		{"2013-03-31 05:05", false},
		{"2013-04-02 22:05", true},
	} {
		if got := r.Occurring(at(t, rome, p.local), nil); got != p.want {
			t.Errorf("hourly: Occurring(%s Rome) = %v, want %v", p.local, got, p.want)
		}
	}
}

func TestExclusionsAndInclusions(t *testing.T) {
	baghdad := mustLoad(t, "Asia/Baghdad")
	base := "DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:PT10H\n" + weekdays + "\n"
	tests := []struct {
		name   string
		text   string
		probes []probe
	}{
		{"EXDATE with TZID", base + "EXDATE;TZID=Asia/Baghdad:20130204T080000", []probe{
			{"2013-02-01 12:00", true}, {"2013-02-04 12:00", false}, {"2013-02-05 12:00", true},
		}},
		{"EXDATE in UTC, list", base + "EXDATE:20130204T050000Z,20130206T050000Z", []probe{
			{"2013-02-04 12:00", false}, {"2013-02-05 12:00", true}, {"2013-02-06 12:00", false},
		}},
		{"EXDATE of a day", base + "EXDATE;VALUE=DATE:20130205", []probe{
			{"2013-02-04 12:00", true}, {"2013-02-05 08:30", false}, {"2013-02-06 12:00", true},
		}},
		{"EXDATE not at an occurrence start", base + "EXDATE;TZID=Asia/Baghdad:20130204T090000", []probe{
			{"2013-02-04 12:00", true},
		}},
		{"floating EXDATE", "DTSTART:20130201T080000\nDURATION:PT10H\n" + weekdays + "\nEXDATE:20130204T080000", []probe{
			{"2013-02-01 12:00", true}, {"2013-02-04 12:00", false}, {"2013-02-05 12:00", true},
		}},
		{"EXRULE", base + "EXRULE:FREQ=WEEKLY;BYDAY=WE", []probe{
			{"2013-02-05 12:00", true}, {"2013-02-06 12:00", false}, {"2013-02-13 12:00", false}, {"2013-02-14 12:00", true},
		}},
		{"EXRULE and RDATE", base + "EXRULE:FREQ=WEEKLY;BYDAY=WE\nRDATE;TZID=Asia/Baghdad:20130213T080000,20130216T080000\nRDATE:20130220T050000Z", []probe{
			{"2013-02-12 12:00", true}, {"2013-02-13 12:00", false}, {"2013-02-16 12:00", true}, {"2013-02-20 12:00", false}, {"2013-02-21 12:00", true},
		}},
		{"RDATE", base + "RDATE;TZID=Asia/Baghdad:20130202T080000,20130216T080000", []probe{
			{"2013-02-02 12:00", true}, {"2013-02-03 12:00", false}, {"2013-02-09 12:00", false}, {"2013-02-16 17:00", true},
		}},
		{"COUNT", "DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=3", []probe{
			{"2013-02-01 12:00", true}, {"2013-02-05 12:00", true}, {"2013-02-06 12:00", false}, {"2014-02-06 12:00", false},
		}},
		{"UNTIL", "DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:PT10H\nRRULE:FREQ=DAILY;UNTIL=20130203T050000Z", []probe{
			{"2013-02-03 12:00", true}, {"2013-02-04 12:00", false},
		}},
		{"single event", "DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:P2D", []probe{
			{"2013-02-01 07:59", false}, {"2013-02-02 12:00", true}, {"2013-02-03 07:59", true}, {"2013-02-03 08:00", false},
		}},
		{"RRULE not matching DTSTART", "DTSTART;TZID=Asia/Baghdad:20130202T080000\nDURATION:PT1H\nRRULE:FREQ=WEEKLY;BYDAY=MO", []probe{
			{"2013-02-02 08:30", false}, {"2013-02-04 08:30", true},
		}},
		{"overlapping occurrences", "DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:PT36H\nRRULE:FREQ=DAILY\nEXDATE;TZID=Asia/Baghdad:20130203T080000", []probe{
			{"2013-02-03 12:00", true}, {"2013-02-03 19:59", true}, {"2013-02-03 20:00", false}, {"2013-02-04 08:00", true},
		}},
	}
	for _, tt := range tests {
		r := mustParse(t, tt.text)
		for _, p := range tt.probes {
			if got := r.Occurring(at(t, baghdad, p.local), baghdad); got != p.want {
				t.Errorf("%s: Occurring(%s) = %v, want %v", tt.name, p.local, got, p.want)
			}
		}
	}
}

func TestSpanningMidnight(t *testing.T) {
	rome := mustLoad(t, "Europe/Rome")
	for _, text := range []string{
		"DTSTART;TZID=Europe/Rome:20130201T220000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=FR",
		"DTSTART;TZID=Europe/Rome:20130201T220000\nDTEND;TZID=Europe/Rome:20130202T080000\nRRULE:FREQ=WEEKLY;BYDAY=FR",
		"DTSTART:20130201T220000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=FR",
	} {
		r := mustParse(t, text)
		for _, p := range []probe{
			{"2013-02-01 21:59", false},
			{"2013-02-01 22:00", true},
			{"2013-02-01 23:59", true},
			{"2013-02-02 00:00", true},
			{"2013-02-02 03:00", true},
			{"2013-02-02 07:59", true},
			{"2013-02-02 08:00", false},
			{"2013-02-07 23:00", false}, // Thursday night
			{"2013-02-09 01:00", true},  // the next Saturday morning
			{"2030-03-02 06:00", true},  // a Saturday morning years later
			{"2030-03-03 06:00", false},
		} {
			if got := r.Occurring(at(t, rome, p.local), rome); got != p.want {
				t.Errorf("%q: Occurring(%s) = %v, want %v", text, p.local, got, p.want)
			}
		}
	}
}

func TestParseAcceptsVariants(t *testing.T) {
	canonical := mustParse(t, "DTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n"+weekdays)
	variants := []string{
		"DTSTART;TZID=Europe/Rome:20130201T080000\r\nDURATION:PT10H\r\n" + weekdays + "\r\n",
		"\n\n  DTSTART;TZID=Europe/Rome:20130201T080000\n\n   \nDURATION:PT10H  \n" + weekdays + "\n\n\t\n",
		"BEGIN:VEVENT\nDTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n" + weekdays + "\nEND:VEVENT\n",
		"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nBEGIN:VEVENT\nUID:1\nDTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n" + weekdays + "\nEND:VEVENT\nEND:VCALENDAR",
		"dtstart;tzid=Europe/Rome:20130201T080000\nduration:pt10h\nrrule:freq=weekly;byday=mo,tu,we,th,fr",
		"DTSTART;TZID=\"Europe/Rome\":20130201T080000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;\n BYDAY=MO,TU,WE,TH,FR", // folded line
		"DTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n" + weekdays + "\nSUMMARY:office hours\nUID:abc",
	}
	rome := mustLoad(t, "Europe/Rome")
	for _, text := range variants {
		r, err := restriction.Parse(text)
		if err != nil {
			t.Errorf("Parse(%q): %v", text, err)
			continue
		}
		if r.String() != text {
			t.Errorf("String() = %q, want the input", r.String())
		}
		for _, p := range friday {
			ts := at(t, rome, p.local)
			if got, want := r.Occurring(ts, rome), canonical.Occurring(ts, rome); got != want {
				t.Errorf("%q: Occurring(%s) = %v, want %v", text, p.local, got, want)
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	const start = "DTSTART;TZID=Europe/Rome:20130201T080000\n"
	tests := []struct {
		name, text, want string
	}{
		{"empty", "", "time restriction: empty"},
		{"blank", " \r\n\n\t ", "time restriction: empty"},
		{"garbage", "hello world", "time restriction: malformed iCalendar: ical: malformed content line: missing colon"},
		{"garbage param", "DTSTART;TZID=Europe/Rome", "time restriction: malformed iCalendar"},
		{"unbalanced", "BEGIN:VEVENT\n" + start + "DURATION:PT1H", "time restriction: malformed iCalendar"},
		{"trailing", start + "DURATION:PT1H\nEND:VEVENT\nEND:VCALENDAR\nX:y", "time restriction: malformed iCalendar"},
		{"content after VEVENT", "BEGIN:VEVENT\n" + start + "DURATION:PT1H\nEND:VEVENT\nRRULE:FREQ=DAILY", "time restriction: malformed iCalendar: unexpected content after END:VEVENT"},
		{"component after VEVENT", "BEGIN:VEVENT\n" + start + "DURATION:PT1H\nEND:VEVENT\nBEGIN:VTODO\nEND:VTODO", "time restriction: malformed iCalendar: unexpected content after END:VEVENT"},
		{"no DTSTART", "DURATION:PT10H\n" + weekdays, "time restriction: no DTSTART"},
		{"two DTSTART", start + start + "DURATION:PT1H", "time restriction: more than one DTSTART"},
		{"bad DTSTART", "DTSTART:2013-02-01 08:00\nDURATION:PT1H", "time restriction: DTSTART: "},
		{"unknown zone", "DTSTART;TZID=Mars/Olympus_Mons:20130201T080000\nDURATION:PT1H", "time restriction: DTSTART: unknown time zone Mars/Olympus_Mons"},
		{"Local zone", "DTSTART;TZID=Local:20130201T080000\nDURATION:PT1H", "time restriction: DTSTART: unknown time zone Local"},
		{"no duration", start + weekdays, "time restriction: no DTEND or DURATION"},
		{"zero duration", start + "DURATION:PT0S", "time restriction: DURATION must be positive, got PT0S"},
		{"negative duration", start + "DURATION:-PT1H", "time restriction: DURATION must be positive, got -PT1H"},
		{"bad duration", start + "DURATION:10 hours", "time restriction: DURATION: ical: invalid duration"},
		{"huge duration", start + "DURATION:P99999999999W", "time restriction: DURATION: P99999999999W is too long"},
		{"DTEND = DTSTART", start + "DTEND;TZID=Europe/Rome:20130201T080000", "time restriction: DTEND must be after DTSTART"},
		{"DTEND before", start + "DTEND;TZID=Europe/Rome:20130201T070000", "time restriction: DTEND must be after DTSTART"},
		{"DTEND and DURATION", start + "DTEND;TZID=Europe/Rome:20130201T180000\nDURATION:PT10H", "time restriction: both DTEND and DURATION"},
		{"DTEND floating mix", "DTSTART:20130201T080000\nDTEND;TZID=Europe/Rome:20130201T180000", "time restriction: DTEND must be floating exactly when DTSTART is"},
		{"bad RRULE freq", start + "DURATION:PT1H\nRRULE:FREQ=FORTNIGHTLY", "time restriction: RRULE: undefined frequency: FORTNIGHTLY"},
		{"bad RRULE part", start + "DURATION:PT1H\nRRULE:FREQ=DAILY;COLOUR=RED", "time restriction: RRULE: unknown RRULE property: COLOUR"},
		{"RRULE without FREQ", start + "DURATION:PT1H\nRRULE:BYDAY=MO", "time restriction: RRULE: RRULE property FREQ is required"},
		{"RRULE bounds", start + "DURATION:PT1H\nRRULE:FREQ=DAILY;BYHOUR=25", "time restriction: RRULE: byhour must be between 0 and 23"},
		{"RRULE bad day", start + "DURATION:PT1H\nRRULE:FREQ=WEEKLY;BYDAY=XX", "time restriction: RRULE: "},
		{"RRULE empty", start + "DURATION:PT1H\nRRULE:", "time restriction: RRULE: empty"},
		{"COUNT and UNTIL", start + "DURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=2;UNTIL=20140101T000000Z", "time restriction: RRULE: both COUNT and UNTIL"},
		{"COUNT zero", start + "DURATION:PT1H\nRRULE:FREQ=DAILY;COUNT=0", "time restriction: RRULE: COUNT must be positive"},
		{"INTERVAL zero", start + "DURATION:PT1H\nRRULE:FREQ=DAILY;INTERVAL=0", "time restriction: RRULE: INTERVAL must be positive"},
		{"unreachable BYHOUR", start + "DURATION:PT1H\nRRULE:FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "time restriction: RRULE: INTERVAL=24 from DTSTART never meets BYHOUR/BYMINUTE/BYSECOND"},
		{"too dense", start + "DURATION:PT1H\nRRULE:FREQ=YEARLY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,10,20,30,40,50", "time restriction: RRULE: up to 52704 occurrences per YEARLY period"},
		{"bad EXRULE", start + "DURATION:PT1H\n" + weekdays + "\nEXRULE:FREQ=SOMETIMES", "time restriction: EXRULE: undefined frequency: SOMETIMES"},
		{"bad EXDATE", start + "DURATION:PT1H\n" + weekdays + "\nEXDATE:tomorrow", "time restriction: EXDATE: "},
		{"bad RDATE", start + "DURATION:PT1H\nRDATE;TZID=Nowhere:20130202T080000", "time restriction: RDATE: unknown time zone Nowhere"},
		{"RDATE period", start + "DURATION:PT1H\nRDATE;VALUE=PERIOD:20130202T080000Z/PT1H", "time restriction: RDATE: PERIOD values are not supported"},
		{"two events", "BEGIN:VCALENDAR\nBEGIN:VEVENT\n" + start + "DURATION:PT1H\nEND:VEVENT\nBEGIN:VEVENT\n" + start + "DURATION:PT1H\nEND:VEVENT\nEND:VCALENDAR", "time restriction: expected exactly one VEVENT, found 2"},
		{"no event", "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR", "time restriction: expected exactly one VEVENT, found 0"},
		{"nested", start + "DURATION:PT1H\nBEGIN:VTODO\nEND:VTODO", "time restriction: unexpected BEGIN:VTODO inside VEVENT"},
	}
	for _, tt := range tests {
		r, err := restriction.Parse(tt.text)
		if err == nil {
			t.Errorf("%s: Parse(%q) = %v, want error %q", tt.name, tt.text, r, tt.want)
			continue
		}
		if !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: Parse(%q) error = %q, want prefix %q", tt.name, tt.text, err, tt.want)
		}
	}
}

func TestNeverOccurring(t *testing.T) {
	// Valid iCalendar whose rule has no occurrence at all (no 30 February).
	r := mustParse(t, "DTSTART:20130201T080000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30")
	for _, ts := range []time.Time{time.Date(2013, 2, 1, 8, 30, 0, 0, time.UTC), time.Now()} {
		if r.Occurring(ts, nil) {
			t.Errorf("Occurring(%v) = true for a rule without occurrences", ts)
		}
	}
}

func TestNilRestrictionAlwaysOccurs(t *testing.T) {
	var r *restriction.Restriction
	if !r.Occurring(time.Now(), nil) {
		t.Error("nil Restriction: Occurring = false, want true")
	}
}

// TestOccurringIsIndependentOfAge checks that evaluating far from DTSTART does not
// enumerate the occurrences in between (a minutely rule since 1900 would have
// about 68 million of them before 2030).
func TestOccurringIsIndependentOfAge(t *testing.T) {
	r := mustParse(t, "DTSTART:19000101T000000Z\nDURATION:PT30S\nRRULE:FREQ=MINUTELY;INTERVAL=7")
	base := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	first := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	deadline := time.Now().Add(20 * time.Second)
	for i := range 500 {
		ts := base.Add(time.Duration(i) * 13 * time.Second)
		want := int64(ts.Sub(first)/time.Second)%(7*60) < 30
		if got := r.Occurring(ts, nil); got != want {
			t.Fatalf("Occurring(%v) = %v, want %v", ts, got, want)
		}
	}
	if time.Now().After(deadline) {
		t.Fatal("500 evaluations took more than 20s: evaluation enumerates from DTSTART")
	}
}

func TestConcurrentUse(t *testing.T) {
	r := mustParse(t, "DTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n"+weekdays+"\nEXRULE:FREQ=WEEKLY;BYDAY=WE\nEXDATE;TZID=Europe/Rome:20130204T080000")
	rome := mustLoad(t, "Europe/Rome")
	var cache restriction.Cache
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				ts := time.Date(2013, 2, 1+i%14, 6+g, 30, 0, 0, rome)
				want := ts.Weekday() != time.Saturday && ts.Weekday() != time.Sunday &&
					ts.Weekday() != time.Wednesday && ts.Day() != 4 && ts.Hour() >= 8 && ts.Hour() < 18
				if got := r.Occurring(ts, rome); got != want {
					t.Errorf("Occurring(%v) = %v, want %v", ts, got, want)
					return
				}
				text := fmt.Sprintf("DTSTART:20130201T0800%02dZ\nDURATION:PT1H", i%20)
				if _, err := cache.Get(text); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCache(t *testing.T) {
	const text = "DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:PT10H\n" + weekdays
	c := restriction.NewCache(3)
	r1, err := c.Get(text)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Get(text)
	if err != nil {
		t.Fatal(err)
	}
	if r1 != r2 {
		t.Errorf("Get returned %p then %p for the same string", r1, r2)
	}
	r3, _ := c.Get(text + "\n")
	if r3 == r1 {
		t.Error("Get returned the same pointer for different strings")
	}
	_, err1 := c.Get("garbage")
	_, err2 := c.Get("garbage")
	if err1 == nil || err1 != err2 {
		t.Errorf("errors not cached: %v, %v", err1, err2)
	}
	for i := range 10 {
		if _, err := c.Get(fmt.Sprintf("DTSTART:20130201T08%02d00Z\nDURATION:PT1H", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Len(); n > 3 {
		t.Errorf("Len() = %d, want at most 3", n)
	}

	var zero restriction.Cache
	z1, _ := zero.Get(text)
	z2, _ := zero.Get(text)
	if z1 == nil || z1 != z2 {
		t.Error("zero Cache does not memoise")
	}
}

// TestOccurringMatchesBruteForce compares Occurring, which expands rules from a
// period near t, against rrule-go expanding every occurrence from DTSTART.
func TestOccurringMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5545, 2445))
	zones := []string{"UTC", "Europe/Rome", "America/New_York", "Asia/Baghdad", "Australia/Lord_Howe", "Pacific/Apia"}
	freqs := []string{"YEARLY", "MONTHLY", "WEEKLY", "DAILY", "HOURLY", "MINUTELY", "SECONDLY"}
	horizon := map[string]time.Duration{
		"YEARLY": 12 * 366 * 24 * time.Hour, "MONTHLY": 6 * 366 * 24 * time.Hour,
		"WEEKLY": 4 * 366 * 24 * time.Hour, "DAILY": 2 * 366 * 24 * time.Hour,
		"HOURLY": 40 * 24 * time.Hour, "MINUTELY": 2 * 24 * time.Hour, "SECONDLY": 90 * time.Minute,
	}
	durations := []time.Duration{time.Second, 30 * time.Minute, time.Hour, 90 * time.Minute, 10 * time.Hour, 25 * time.Hour, 72 * time.Hour, 8 * 24 * time.Hour}
	pick := func(vals []string, max int) string {
		n := 1 + rng.IntN(max)
		var out []string
		for range n {
			v := vals[rng.IntN(len(vals))]
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
		return strings.Join(out, ",")
	}
	days := []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}

	checked, rules := 0, 0
	for range 600 {
		zoneName := zones[rng.IntN(len(zones))]
		zone := mustLoad(t, zoneName)
		mode := rng.IntN(3) // 0 TZID, 1 floating, 2 UTC
		freq := freqs[rng.IntN(len(freqs))]
		parts := []string{"FREQ=" + freq}
		if rng.IntN(2) == 0 {
			parts = append(parts, fmt.Sprintf("INTERVAL=%d", 1+rng.IntN(4)))
		}
		if rng.IntN(3) == 0 {
			parts = append(parts, "WKST="+days[rng.IntN(7)])
		}
		switch rng.IntN(6) {
		case 0:
			parts = append(parts, "BYDAY="+pick(days, 4))
		case 1:
			if freq == "MONTHLY" || freq == "YEARLY" {
				parts = append(parts, "BYDAY="+pick([]string{"1MO", "-1FR", "2TU", "SA", "SU"}, 2))
			}
		case 2:
			parts = append(parts, "BYMONTHDAY="+pick([]string{"1", "15", "28", "29", "31", "-1"}, 2))
		case 3:
			parts = append(parts, "BYMONTH="+pick([]string{"1", "2", "3", "10", "11", "12"}, 3))
		}
		if rng.IntN(3) == 0 && freq != "HOURLY" && freq != "MINUTELY" && freq != "SECONDLY" {
			parts = append(parts, "BYHOUR="+pick([]string{"0", "2", "3", "8", "12", "23"}, 2))
		}
		if rng.IntN(4) == 0 && (freq == "YEARLY" || freq == "MONTHLY" || freq == "WEEKLY" || freq == "DAILY" || freq == "HOURLY") {
			parts = append(parts, "BYMINUTE="+pick([]string{"0", "15", "30", "59"}, 2))
		}
		if rng.IntN(6) == 0 && freq != "SECONDLY" {
			parts = append(parts, "BYSETPOS="+pick([]string{"1", "-1", "2"}, 2))
		}

		year, month, day := 2012+rng.IntN(2), time.Month(1+rng.IntN(12)), 1+rng.IntN(28)
		hour, minute, second := rng.IntN(24), rng.IntN(60), 30*rng.IntN(2)
		evalZone := zone
		var dtstart time.Time
		var startLine string
		wall := fmt.Sprintf("%04d%02d%02dT%02d%02d%02d", year, month, day, hour, minute, second)
		switch mode {
		case 0:
			dtstart = time.Date(year, month, day, hour, minute, second, 0, zone)
			startLine = fmt.Sprintf("DTSTART;TZID=%s:%s", zoneName, wall)
		case 1:
			dtstart = time.Date(year, month, day, hour, minute, second, 0, zone)
			startLine = "DTSTART:" + wall
		case 2:
			dtstart = time.Date(year, month, day, hour, minute, second, 0, time.UTC)
			startLine = "DTSTART:" + wall + "Z"
			zone = time.UTC
		}
		if dtstart.Hour() != hour || dtstart.Minute() != minute {
			continue // in a DST gap: rrule-go shifts its defaults, not worth modelling
		}
		dur := durations[rng.IntN(len(durations))]
		end := dtstart.Add(horizon[freq] + 2*time.Hour + dur) // beyond the last probe
		switch rng.IntN(5) {
		case 0:
			parts = append(parts, fmt.Sprintf("COUNT=%d", 1+rng.IntN(40)))
		case 1:
			until := dtstart.Add(time.Duration(rng.Int64N(int64(horizon[freq]))))
			if rng.IntN(2) == 0 {
				parts = append(parts, "UNTIL="+until.UTC().Format("20060102T150405Z"))
			} else if mode != 2 {
				parts = append(parts, "UNTIL="+until.In(zone).Format("20060102T150405"))
			}
		}
		ruleText := strings.Join(parts, ";")

		// Brute force: every occurrence from DTSTART.
		o, err := rrule.StrToROptionInLocation(ruleText, zone)
		if err != nil {
			t.Fatalf("%s: %v", ruleText, err)
		}
		o.Dtstart = dtstart
		text := fmt.Sprintf("%s\nDURATION:PT%dS\nRRULE:%s", startLine, int64(dur/time.Second), ruleText)
		r, err := restriction.Parse(text)
		if err != nil {
			if strings.Contains(err.Error(), "never meets") || strings.Contains(err.Error(), "never selects") {
				continue
			}
			t.Fatalf("Parse(%q): %v", text, err)
		}
		rr, err := rrule.NewRRule(*o)
		if err != nil {
			t.Fatal(err)
		}
		set := &rrule.Set{}
		set.RRule(rr)
		occ := set.Between(dtstart.Add(-time.Second), end, true)
		if len(occ) > 50000 {
			continue
		}
		// Sometimes add RDATEs (whole seconds in the horizon) and an EXRULE.
		stamp := func(ts time.Time, i int) string {
			switch {
			case mode == 1:
				return ":" + ts.In(zone).Format("20060102T150405")
			case i%2 == 0:
				return ":" + ts.UTC().Format("20060102T150405Z")
			default:
				return fmt.Sprintf(";TZID=%s:%s", zoneName, ts.In(evalZone).Format("20060102T150405"))
			}
		}
		if rng.IntN(4) == 0 {
			for i := range 1 + rng.IntN(3) {
				rd := dtstart.Add(time.Duration(rng.Int64N(int64(horizon[freq]))) / time.Second * time.Second)
				text += "\nRDATE" + stamp(rd, i)
				occ = append(occ, rd)
			}
			slices.SortFunc(occ, time.Time.Compare)
			occ = slices.CompactFunc(occ, time.Time.Equal)
		}
		if rng.IntN(4) == 0 {
			exText := []string{"FREQ=WEEKLY;BYDAY=" + days[rng.IntN(7)], "FREQ=DAILY;INTERVAL=3", "FREQ=MONTHLY;BYMONTHDAY=1,15,-1", "FREQ=HOURLY;INTERVAL=5"}[rng.IntN(4)]
			text += "\nEXRULE:" + exText
			xo, err := rrule.StrToROptionInLocation(exText, zone)
			if err != nil {
				t.Fatal(err)
			}
			xo.Dtstart = dtstart
			xr, err := rrule.NewRRule(*xo)
			if err != nil {
				t.Fatal(err)
			}
			exOcc := xr.Between(dtstart.Add(-time.Second), end, true)
			occ = slices.DeleteFunc(occ, func(s time.Time) bool {
				_, found := slices.BinarySearchFunc(exOcc, s, time.Time.Compare)
				return found
			})
		}
		// Exclude a couple of occurrences, in alternating notations.
		var excluded []time.Time
		for i := 0; i < 2 && len(occ) > 3; i++ {
			ex := occ[rng.IntN(len(occ))]
			excluded = append(excluded, ex)
			text += "\nEXDATE" + stamp(ex, i)
		}
		occ = slices.DeleteFunc(occ, func(s time.Time) bool {
			return slices.ContainsFunc(excluded, s.Equal)
		})
		if r, err = restriction.Parse(text); err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		rules++

		truth := func(ts time.Time) bool {
			i, found := slices.BinarySearchFunc(occ, ts, func(a, b time.Time) int { return a.Compare(b) })
			if found {
				return true
			}
			return i > 0 && ts.Before(occ[i-1].Add(dur))
		}
		var probes []time.Time
		for range 25 {
			probes = append(probes, dtstart.Add(-time.Hour+time.Duration(rng.Int64N(int64(horizon[freq]+2*time.Hour)))))
		}
		for range 8 {
			if len(occ) == 0 {
				break
			}
			s := occ[rng.IntN(len(occ))]
			if s.After(dtstart.Add(horizon[freq])) {
				continue
			}
			probes = append(probes, s, s.Add(-time.Second), s.Add(dur-time.Nanosecond), s.Add(dur))
		}
		other := mustLoad(t, zones[rng.IntN(len(zones))])
		for _, ts := range probes {
			want := truth(ts)
			loc := evalZone
			if mode != 1 && rng.IntN(2) == 0 {
				loc = other // must not matter
			}
			if got := r.Occurring(ts, loc); got != want {
				t.Fatalf("%q\nOccurring(%v, %v) = %v, want %v", text, ts.In(evalZone), loc, got, want)
			}
			checked++
		}
	}
	t.Logf("%d rules, %d evaluations agree with full expansion", rules, checked)
	if rules < 300 {
		t.Errorf("only %d rules checked", rules)
	}
}

func FuzzParse(f *testing.F) {
	seeds := []string{
		"DTSTART;TZID=Asia/Baghdad:20130201T080000\nDURATION:PT10H\n" + weekdays,
		"DTSTART;TZID=Europe/Rome:20130201T080000\nDTEND;TZID=Europe/Rome:20130201T180000\n" + weekdays + "\nEXDATE;TZID=Europe/Rome:20130204T080000",
		"DTSTART:20130201T220000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=FR\nEXRULE:FREQ=MONTHLY;BYDAY=1FR",
		"DTSTART:20130201T080000Z\nDURATION:P1D\nRDATE:20130301T080000Z,20130401T080000Z\nEXDATE;VALUE=DATE:20130301",
		"BEGIN:VEVENT\nDTSTART;VALUE=DATE:20130201\nDTEND;VALUE=DATE:20130202\nRRULE:FREQ=YEARLY;COUNT=3\nEND:VEVENT",
		"DTSTART:20130201T080000\nDURATION:PT1M\nRRULE:FREQ=MINUTELY;INTERVAL=7;BYHOUR=8,9;UNTIL=20140101T000000",
		"DTSTART:20130201T080000\nDURATION:PT1S\nRRULE:FREQ=SECONDLY;BYSECOND=5,10",
		"DTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT1H\nRRULE:FREQ=HOURLY;INTERVAL=24;BYHOUR=5",
		"DTSTART;TZID=Europe/Rome",
		"",
		"garbage",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	fixed := time.FixedZone("X", -(9*3600 + 30*60))
	times := []time.Time{
		time.Date(2013, 2, 1, 9, 0, 0, 0, time.UTC),
		time.Date(2013, 3, 31, 1, 30, 0, 0, time.UTC),
		time.Date(2027, 10, 31, 0, 59, 59, 999, time.UTC),
		{},
		time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, text string) {
		// rrule-go can loop forever on some rules; Parse must reject those. A hang
		// would stall the fuzzer silently, so turn it into a crash with the input.
		watchdog := time.AfterFunc(10*time.Second, func() {
			panic(fmt.Sprintf("Parse/Occurring still running after 10s on %q", text))
		})
		defer watchdog.Stop()
		r, err := restriction.Parse(text)
		if err != nil {
			if r != nil {
				t.Fatal("Parse returned both a restriction and an error")
			}
			if !strings.HasPrefix(err.Error(), "time restriction: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		if r.Duration() <= 0 {
			t.Fatalf("non-positive duration %v", r.Duration())
		}
		for _, ts := range times {
			for _, loc := range []*time.Location{nil, rome, fixed} {
				r.Occurring(ts, loc)
			}
		}
	})
}

func BenchmarkOccurring(b *testing.B) {
	rome := mustLoad(b, "Europe/Rome")
	cases := []struct{ name, text string }{
		{"weekdays-TZID", "DTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n" + weekdays},
		{"weekdays-floating", "DTSTART:20130201T080000\nDURATION:PT10H\n" + weekdays},
		{"weekdays-exclusions", "DTSTART;TZID=Europe/Rome:20130201T080000\nDURATION:PT10H\n" + weekdays +
			"\nEXRULE:FREQ=MONTHLY;BYDAY=1MO\nEXDATE;TZID=Europe/Rome:20251225T080000,20260101T080000"},
		{"minutely-since-1900", "DTSTART:19000101T000000Z\nDURATION:PT30S\nRRULE:FREQ=MINUTELY;INTERVAL=7"},
		{"single-event", "DTSTART:20130201T080000Z\nDURATION:PT10H"},
	}
	base := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range cases {
		r := mustParse(b, c.text)
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				r.Occurring(base.Add(time.Duration(i%(14*24*4))*15*time.Minute), rome)
				i++
			}
		})
	}
}
