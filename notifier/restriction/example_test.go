package restriction_test

import (
	"fmt"
	"time"

	"github.com/x/flapjack/notifier/restriction"
)

func Example() {
	// Weekdays 08:00–18:00, as stored in a rule's time_restriction_ical. Without a
	// TZID the times are floating: they are read in the contact's zone.
	r, err := restriction.Parse("DTSTART:20130201T080000\r\nDURATION:PT10H\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\r\n")
	if err != nil {
		panic(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	baghdad, _ := time.LoadLocation("Asia/Baghdad")
	for _, s := range []string{"2013-02-01T06:30:00Z", "2013-02-01T16:30:00Z", "2013-02-02T10:00:00Z"} {
		t, _ := time.Parse(time.RFC3339, s)
		fmt.Printf("%s  Rome %s %-5v  Baghdad %s %v\n", t.Format("Mon 15:04Z"),
			t.In(rome).Format("15:04"), r.Occurring(t, rome),
			t.In(baghdad).Format("15:04"), r.Occurring(t, baghdad))
	}

	_, err = restriction.Parse("DURATION:PT10H\nRRULE:FREQ=DAILY")
	fmt.Println(err)
	// Output:
	// Fri 06:30Z  Rome 07:30 false  Baghdad 09:30 true
	// Fri 16:30Z  Rome 17:30 true   Baghdad 19:30 false
	// Sat 10:00Z  Rome 11:00 false  Baghdad 13:00 false
	// time restriction: no DTSTART
}

func ExampleCache() {
	var cache restriction.Cache // the zero value is ready to use
	const text = "DTSTART;TZID=Europe/Rome:20130201T080000\nDTEND;TZID=Europe/Rome:20130201T180000\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
	a, _ := cache.Get(text)
	b, _ := cache.Get(text)
	fmt.Println(a == b, a.Duration())
	// Output: true 10h0m0s
}
