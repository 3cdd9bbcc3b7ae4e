package receiver_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/receiver"
)

// tabs joins fields with tabs, as Nagios writes them.
func tabs(fields ...string) string { return strings.Join(fields, "\t") }

func TestParseNagiosLine(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want flapjack.Event
	}{{
		name: "service critical",
		line: tabs("[SERVICEPERFDATA]", "1454900000", "web-01", "HTTP", "CRITICAL", "0.101", "0.012", "HTTP CRITICAL - 502", "time=0.2s;;;0"),
		want: flapjack.Event{Entity: "web-01", Check: "HTTP", State: "critical", Time: 1454900000, Summary: "HTTP CRITICAL - 502", Perfdata: "time=0.2s;;;0"},
	}, {
		name: "service states keep their name in lower case",
		line: tabs("[SERVICEPERFDATA]", "1", "web-01", "Disk /", "Warning", "0", "0", "DISK WARNING", ""),
		want: flapjack.Event{Entity: "web-01", Check: "Disk /", State: "warning", Time: 1, Summary: "DISK WARNING"},
	}, {
		name: "service ok",
		line: tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "OK", "0", "0", "HTTP OK", ""),
		want: flapjack.Event{Entity: "web-01", Check: "HTTP", State: "ok", Time: 1, Summary: "HTTP OK"},
	}, {
		name: "service unknown",
		line: tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "UNKNOWN", "0", "0", "no route", ""),
		want: flapjack.Event{Entity: "web-01", Check: "HTTP", State: "unknown", Time: 1, Summary: "no route"},
	}, {
		name: "host up is ok",
		line: tabs("[HOSTPERFDATA]", "1454900000", "web-01", "HOST", "UP", "0.01", "0.0", "PING OK - Packet loss = 0%", "rta=0.05ms"),
		want: flapjack.Event{Entity: "web-01", Check: "HOST", State: "ok", Time: 1454900000, Summary: "PING OK - Packet loss = 0%", Perfdata: "rta=0.05ms"},
	}, {
		name: "host down is critical",
		line: tabs("[HOSTPERFDATA]", "1454900000", "web-01", "HOST", "DOWN", "0.01", "0.0", "PING CRITICAL", ""),
		want: flapjack.Event{Entity: "web-01", Check: "HOST", State: "critical", Time: 1454900000, Summary: "PING CRITICAL"},
	}, {
		name: "host unreachable is critical",
		line: tabs("[HOSTPERFDATA]", "1454900000", "web-01", "HOST", "UNREACHABLE", "0", "0", "parent down", ""),
		want: flapjack.Event{Entity: "web-01", Check: "HOST", State: "critical", Time: 1454900000, Summary: "parent down"},
	}, {
		name: "a host check is HOST whatever field 4 says",
		line: tabs("[HOSTPERFDATA]", "7", "db-01", "host", "up", "0", "0", "ok", ""),
		want: flapjack.Event{Entity: "db-01", Check: "HOST", State: "ok", Time: 7, Summary: "ok"},
	}, {
		name: "long output in a tenth field",
		line: tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "CRITICAL", "0", "0", "502", "", `first line\nsecond line`),
		want: flapjack.Event{Entity: "web-01", Check: "HTTP", State: "critical", Time: 1, Summary: "502", Details: "first line\nsecond line"},
	}, {
		name: "fields past the tenth are ignored",
		line: tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "OK", "0", "0", "fine", "", "long", "extra"),
		want: flapjack.Event{Entity: "web-01", Check: "HTTP", State: "ok", Time: 1, Summary: "fine", Details: "long"},
	}, {
		name: "line ending",
		line: tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "OK", "0", "0", "fine", "t=1\r\n"),
		want: flapjack.Event{Entity: "web-01", Check: "HTTP", State: "ok", Time: 1, Summary: "fine", Perfdata: "t=1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := receiver.ParseNagiosLine(tc.line)
			if err != nil {
				t.Fatalf("ParseNagiosLine(%q): %v", tc.line, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseNagiosLine(%q)\n got %+v\nwant %+v", tc.line, got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the event is invalid: %v", err)
			}
		})
	}
}

func TestParseNagiosLineRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		line string
		want []string // parts of the error
	}{
		{"empty", "", []string{"1 tab-separated field(s), want at least 9"}},
		{"spaces for tabs", "[SERVICEPERFDATA] 1 web-01 HTTP OK 0 0 fine t=1", []string{"1 tab-separated field(s)"}},
		{"eight fields", tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "OK", "0", "0", "fine"), []string{"8 tab-separated field(s)"}},
		{"unknown type", tabs("[PERFDATA]", "1", "web-01", "HTTP", "OK", "0", "0", "fine", ""), []string{`field 1 "[PERFDATA]" is neither [HOSTPERFDATA] nor [SERVICEPERFDATA]`}},
		{"time not digits", tabs("[SERVICEPERFDATA]", "1454900000.5", "web-01", "HTTP", "OK", "0", "0", "fine", ""), []string{`field 2 (time) "1454900000.5" is not a Unix time in digits`}},
		{"time empty", tabs("[SERVICEPERFDATA]", "", "web-01", "HTTP", "OK", "0", "0", "fine", ""), []string{`field 2 (time) "" is not`}},
		{"time too large", tabs("[SERVICEPERFDATA]", "99999999999999999999", "web-01", "HTTP", "OK", "0", "0", "fine", ""), []string{`field 2 (time) "99999999999999999999"`}},
		{"macro not expanded", tabs("[SERVICEPERFDATA]", "$TIMET$", "web-01", "HTTP", "OK", "0", "0", "fine", ""), []string{`field 2 (time) "$TIMET$"`}},
		{"no host", tabs("[SERVICEPERFDATA]", "1", "", "HTTP", "OK", "0", "0", "fine", ""), []string{"field 3 (host name) is empty"}},
		{"no service", tabs("[SERVICEPERFDATA]", "1", "web-01", "", "OK", "0", "0", "fine", ""), []string{"field 4 (service description) is empty"}},
		{"pending", tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "PENDING", "0", "0", "fine", ""), []string{`field 5 (state) "PENDING" is not UP, DOWN, UNREACHABLE, OK, WARNING, CRITICAL or UNKNOWN`}},
		{"state is an action", tabs("[SERVICEPERFDATA]", "1", "web-01", "HTTP", "acknowledgement", "0", "0", "fine", ""), []string{`field 5 (state) "acknowledgement"`}},
		{"every problem at once", tabs("[X]", "x", "", "", "", "0", "0", "fine", ""), []string{"field 1", "field 2", "field 3", "field 4", "field 5"}},
		{"long field cut short", tabs("[SERVICEPERFDATA]", strings.Repeat("9", 500), "web-01", "HTTP", "OK", "0", "0", "fine", ""), []string{`"` + strings.Repeat("9", 64) + `"…`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := receiver.ParseNagiosLine(tc.line)
			if err == nil {
				t.Fatalf("ParseNagiosLine(%q) = %+v, want an error", tc.line, ev)
			}
			if !errors.Is(err, receiver.ErrBadLine) {
				t.Errorf("error %v does not match ErrBadLine", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !reflect.DeepEqual(ev, flapjack.Event{}) {
				t.Errorf("event %+v returned with an error", ev)
			}
		})
	}
}

func FuzzNagiosLine(f *testing.F) {
	for _, s := range []string{
		tabs("[SERVICEPERFDATA]", "1454900000", "web-01", "HTTP", "CRITICAL", "0.101", "0.012", "HTTP CRITICAL - 502", "time=0.2s;;;0"),
		tabs("[HOSTPERFDATA]", "1454900000", "web-01", "HOST", "UNREACHABLE", "0", "0", "down", "", `a\nb`),
		tabs("[HOSTPERFDATA]", "1", "h", "HOST", "up", "", "", "", "", "", ""),
		"[SERVICEPERFDATA]\t\t\t\t\t\t\t\t",
		"\xff\t\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ev, err := receiver.ParseNagiosLine(line)
		if err != nil {
			if !errors.Is(err, receiver.ErrBadLine) {
				t.Fatalf("error %v does not match ErrBadLine", err)
			}
			return
		}
		if ev.Entity == "" || ev.Check == "" || ev.Time < 0 {
			t.Fatalf("accepted %q as %+v", line, ev)
		}
		if c := ev.Condition(); !c.Healthy() && !c.Unhealthy() {
			t.Fatalf("accepted %q with state %q", line, ev.State)
		}
		if err := ev.Validate(); err != nil {
			t.Fatalf("accepted %q as an invalid event: %v", line, err)
		}
		if strings.Count(line, "\t") < 8 {
			t.Fatalf("accepted %q with fewer than 9 fields", line)
		}
	})
}
