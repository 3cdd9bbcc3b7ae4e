package gateway_test

import (
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
)

func TestDurationWords(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{4 * time.Hour, "4 hours"},
		{24*time.Hour + 2*time.Minute, "1 day, 2 minutes"},
		{2*24*time.Hour + time.Hour + time.Minute + time.Second, "2 days, 1 hour, 1 minute, 1 second"},
		{90 * time.Second, "1 minute, 30 seconds"},
		{59 * time.Second, "59 seconds"},
		{time.Second + 999*time.Millisecond, "1 second"},
		{500 * time.Millisecond, "0 seconds"},
		{0, "0 seconds"},
		{-time.Hour, "0 seconds"},
	} {
		if got := gateway.DurationWords(tc.d); got != tc.want {
			t.Errorf("DurationWords(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{125 * time.Second, "2 mins 5 secs"},
		{41 * time.Second, "41 secs"},
		{time.Hour + time.Minute + time.Second, "1 hr 1 min 1 sec"},
		{27 * time.Hour, "1 day 3 hrs"},
		{3*24*time.Hour + 2*time.Hour, "3 days 2 hrs"},
		{0, "0 secs"},
		{-time.Minute, "0 secs"},
	} {
		if got := gateway.HumanDuration(tc.d); got != tc.want {
			t.Errorf("HumanDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello", 10, "hello"},
		{"hello world", 8, "hello..."},
		{"héllo wörld", 8, "héllo..."},
		{"日本語のテキスト", 6, "日本語..."},
		{"日本語", 3, "日本語"},
		{"abcdef", 3, "..."},
		{"abcdef", 2, ".."},
		{"abcdef", 0, ""},
		{"abcdef", -1, ""},
		{"", 5, ""},
	} {
		if got := gateway.Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}

func TestTruncateLimits(t *testing.T) {
	long := ""
	for range 400 {
		long += "x"
	}
	for _, n := range []int{100, 156, 159, 3000} {
		got := gateway.Truncate(long+long+long+long+long+long+long+long, n)
		if len(got) != n || got[n-3:] != "..." {
			t.Errorf("Truncate to %d: length %d, tail %q", n, len(got), got[len(got)-3:])
		}
	}
}
