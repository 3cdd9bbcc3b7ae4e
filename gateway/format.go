package gateway

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// DurationWords spells d out for people, as acknowledgement messages do: days,
// hours, minutes and seconds, zero parts left out, joined by ", ", e.g. "4 hours"
// or "1 day, 2 minutes". Fractions of a second are dropped; anything below one
// second is "0 seconds".
func DurationWords(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs <= 0 {
		return "0 seconds"
	}
	var parts []string
	for _, u := range []struct {
		size int64
		name string
	}{{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}} {
		if n := secs / u.size; n > 0 {
			parts = append(parts, plural(n, u.name))
			secs -= n * u.size
		}
	}
	return strings.Join(parts, ", ")
}

// HumanDuration is the short form email uses for how long a condition has lasted,
// e.g. "2 mins 5 secs" or "1 day 3 hrs": days, hrs, mins and secs, zero parts left
// out, joined by spaces; anything below one second is "0 secs".
func HumanDuration(d time.Duration) string {
	secs := int64(d / time.Second)
	if secs <= 0 {
		return "0 secs"
	}
	var parts []string
	for _, u := range []struct {
		size int64
		name string
	}{{86400, "day"}, {3600, "hr"}, {60, "min"}, {1, "sec"}} {
		if n := secs / u.size; n > 0 {
			parts = append(parts, plural(n, u.name))
			secs -= n * u.size
		}
	}
	return strings.Join(parts, " ")
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Truncate shortens s to at most n characters (runes, so that a multi-byte
// character is never split) for transports with a length limit. When s is cut,
// its last three characters become "...", so readers can tell.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 3 {
		return strings.Repeat(".", n)
	}
	i, kept := 0, 0
	for i = range s {
		if kept == n-3 {
			break
		}
		kept++
	}
	return s[:i] + "..."
}

// titleCase is how states and types read in messages: "OK" for ok, otherwise
// each underscore- or space-separated word capitalised ("test_notifications" →
// "Test Notifications").
func titleCase(s string) string {
	if s == "ok" {
		return "OK"
	}
	words := strings.Fields(strings.ReplaceAll(s, "_", " "))
	for i, w := range words {
		r, size := utf8.DecodeRuneInString(w)
		words[i] = strings.ToUpper(string(r)) + w[size:]
	}
	return strings.Join(words, " ")
}
