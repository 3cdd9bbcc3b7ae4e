package notifier

import (
	"testing"
	"time"

	"github.com/x/flapjack/notifier/restriction"
)

// memoRestrictions cover the ways a restriction's occurrences get their times:
// zones with and without daylight saving, a historical offset with seconds,
// floating and UTC times, DTEND and DURATION with seconds, RDATE, EXDATE,
// EXRULE, BYSECOND and BYSETPOS.
var memoRestrictions = []string{
	"DTSTART:20130101T080000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
	"DTSTART;TZID=America/New_York:20130228T233000\nDTEND;TZID=America/New_York:20130301T030017\nRRULE:FREQ=DAILY",
	"DTSTART;TZID=Europe/Amsterdam:19000101T000000\nDURATION:PT1H0M30S\nRRULE:FREQ=DAILY;BYHOUR=1,13",
	"DTSTART:20130301T000007Z\nDURATION:PT45S\nRRULE:FREQ=MINUTELY;INTERVAL=7;BYSECOND=7,50",
	"DTSTART;TZID=Asia/Kolkata:20130301T090000\nDURATION:PT2H\nRRULE:FREQ=DAILY;BYHOUR=9,15;BYMINUTE=0,45;BYSETPOS=2,-1\nEXDATE;TZID=Asia/Kolkata:20130302T154500",
	"DTSTART:20130301T120000Z\nDURATION:PT3M3S\nRDATE:20130301T130001Z,20130302T020202Z\nEXRULE:FREQ=DAILY;BYDAY=SA",
}

// TestOccurringWholeSeconds holds restriction.Occurring to what Router.occurs
// relies on: its answer is the same at every instant of one second. It finds the
// seconds at which each restriction's answer changes and checks fractions of a
// second on either side.
func TestOccurringWholeSeconds(t *testing.T) {
	zones := []*time.Location{time.UTC, memoZone(t, "America/New_York"), memoZone(t, "Australia/Lord_Howe")}
	start := time.Date(2013, 3, 1, 0, 0, 0, 0, time.UTC)
	const step = time.Minute // shorter than every gap between occurrences above, and every run of them
	fractions := []time.Duration{1, time.Millisecond, 499999999, 500 * time.Millisecond, time.Second - 1}
	for _, text := range memoRestrictions {
		res, err := restriction.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		for _, loc := range zones {
			changes := 0
			prev := res.Occurring(start, loc)
			for at := start.Add(step); at.Before(start.Add(3 * 24 * time.Hour)); at = at.Add(step) {
				on := res.Occurring(at, loc)
				if on == prev {
					continue
				}
				// The answer changed in (at-step, at]: find the whole second s
				// at which it did, then look inside s-1 and s.
				lo, hi := at.Add(-step).Unix(), at.Unix() // Occurring(lo) == prev, Occurring(hi) == on
				for hi-lo > 1 {
					mid := lo + (hi-lo)/2
					if res.Occurring(time.Unix(mid, 0), loc) == prev {
						lo = mid
					} else {
						hi = mid
					}
				}
				changes++
				for _, s := range []time.Time{time.Unix(lo, 0), time.Unix(hi, 0)} {
					want := res.Occurring(s, loc)
					for _, f := range fractions {
						if got := res.Occurring(s.Add(f), loc); got != want {
							t.Errorf("%q in %s: Occurring(%s) = %t but Occurring(%s) = %t: the answer changes within a second",
								text, loc, s.Add(f).Format(time.RFC3339Nano), got, s.Format(time.RFC3339Nano), want)
						}
					}
				}
				prev = on
			}
			if changes == 0 && loc == time.UTC {
				t.Errorf("%q: no change in three days; the test looks at nothing", text)
			}
		}
	}
}

// TestRouterOccursMatchesOccurring checks the memo against the restriction at
// instants that go forwards, backwards and stay within one second.
func TestRouterOccursMatchesOccurring(t *testing.T) {
	var r Router
	loc := memoZone(t, "Europe/Rome")
	times := []time.Time{}
	for at := time.Date(2013, 3, 1, 6, 59, 58, 0, time.UTC); at.Before(time.Date(2013, 3, 1, 7, 0, 3, 0, time.UTC)); at = at.Add(250 * time.Millisecond) {
		times = append(times, at)
	}
	for i := len(times) - 1; i >= 0; i-- { // and back again
		times = append(times, times[i])
	}
	times = append(times, time.Date(2013, 3, 2, 7, 0, 0, 0, time.UTC), times[0]) // a Saturday, then back
	for _, text := range memoRestrictions {
		res, err := restriction.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		for _, zone := range []*time.Location{loc, time.UTC} {
			for _, at := range times {
				if got, want := r.occurs(res, at, zone), res.Occurring(at, zone); got != want {
					t.Errorf("%q in %s at %s: occurs = %t, Occurring = %t", text, zone, at.Format(time.RFC3339Nano), got, want)
				}
			}
		}
	}
	// A full memo starts afresh rather than growing.
	for i := range maxOccurringMemo + 10 {
		r.occurs(nil, time.Unix(int64(i), 0), time.FixedZone("", i))
	}
	if n := len(r.occurringMemo); n > maxOccurringMemo {
		t.Errorf("memo holds %d answers, more than %d", n, maxOccurringMemo)
	}
}

func memoZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}
