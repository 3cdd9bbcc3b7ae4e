package receiver_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/receiver"
)

func TestParseNSCALine(t *testing.T) {
	svc := func(output string) flapjack.Event {
		return flapjack.Event{Entity: "web-01", Check: "HTTP", Time: 1454900000, Summary: output}
	}
	withState := func(ev flapjack.Event, s string) flapjack.Event { ev.State = s; return ev }
	for _, tc := range []struct {
		name string
		line string
		want flapjack.Event
	}{
		{"0 is ok", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;HTTP OK", withState(svc("HTTP OK"), "ok")},
		{"1 is warning", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;1;slow", withState(svc("slow"), "warning")},
		{"2 is critical", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;502", withState(svc("502"), "critical")},
		{"3 is unknown", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;3;no route", withState(svc("no route"), "unknown")},
		{"tab after the time", "[1454900000]\tPROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;502", withState(svc("502"), "critical")},
		{"several blanks after the time", "[1454900000] \t  PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;502", withState(svc("502"), "critical")},
		{"nothing after the time", "[1454900000]PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;502", withState(svc("502"), "critical")},
		{"semicolons in the output", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;a;b;c", withState(svc("a;b;c"), "critical")},
		{"empty output", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;", withState(svc(""), "ok")},
		{"line ending", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;fine\r\n", withState(svc("fine"), "ok")},
		{"code with blanks", "[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP; 2 ;502", withState(svc("502"), "critical")},
		{
			"perfdata and long output",
			`[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;HTTP CRITICAL - 502 |time=0.2s;;;0\nfirst\nsecond`,
			flapjack.Event{Entity: "web-01", Check: "HTTP", State: "critical", Time: 1454900000, Summary: "HTTP CRITICAL - 502 ", Perfdata: "time=0.2s;;;0", Details: "first\nsecond"},
		},
		{"host up", "[1454900000] PROCESS_HOST_CHECK_RESULT;web-01;0;PING OK", flapjack.Event{Entity: "web-01", Check: "HOST", State: "ok", Time: 1454900000, Summary: "PING OK"}},
		{"host down", "[1454900000] PROCESS_HOST_CHECK_RESULT;web-01;1;PING CRITICAL", flapjack.Event{Entity: "web-01", Check: "HOST", State: "critical", Time: 1454900000, Summary: "PING CRITICAL"}},
		{"host unreachable", "[1454900000] PROCESS_HOST_CHECK_RESULT;web-01;2;parent down", flapjack.Event{Entity: "web-01", Check: "HOST", State: "critical", Time: 1454900000, Summary: "parent down"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := receiver.ParseNSCALine(tc.line)
			if err != nil {
				t.Fatalf("ParseNSCALine(%q): %v", tc.line, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseNSCALine(%q)\n got %+v\nwant %+v", tc.line, got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("the event is invalid: %v", err)
			}
		})
	}
}

func TestParseNSCALineRejects(t *testing.T) {
	for _, tc := range []struct {
		name        string
		line        string
		want        []string
		unsupported bool
	}{
		{"empty", "", []string{"does not start with [<Unix time>]"}, false},
		{"no time", "PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;ok", []string{"does not start with [<Unix time>]"}, false},
		{"unclosed time", "[1454900000 PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;ok", []string{"does not start with [<Unix time>]"}, false},
		{"time not digits", "[14549e5] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;ok", []string{`time "14549e5" is not a Unix time in digits`}, false},
		{"empty time", "[] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;ok", []string{`time "" is not`}, false},
		{"too few fields", "[1] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0", []string{"PROCESS_SERVICE_CHECK_RESULT needs <host>;<service>;<return code>;<plugin output>"}, false},
		{"host too few fields", "[1] PROCESS_HOST_CHECK_RESULT;web-01;0", []string{"PROCESS_HOST_CHECK_RESULT needs <host>;<return code>;<plugin output>"}, false},
		{"state word instead of code", "[1] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;CRITICAL;502", []string{`return code "CRITICAL" is not 0 (ok), 1 (warning), 2 (critical) or 3 (unknown)`}, false},
		{"code 4", "[1] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;4;502", []string{`return code "4" is not`}, false},
		{"host code 3", "[1] PROCESS_HOST_CHECK_RESULT;web-01;3;?", []string{`return code "3" is not 0 (up), 1 (down) or 2 (unreachable)`}, false},
		{"empty names", "[1] PROCESS_SERVICE_CHECK_RESULT;;;0;ok", []string{"host name is empty", "service description is empty"}, false},
		{"lower-case command", "[1] process_service_check_result;web-01;HTTP;0;ok", []string{`"process_service_check_result" is not an external command`}, false},
		{"another command", "[1] ACKNOWLEDGE_SVC_PROBLEM;web-01;HTTP;1;1;1;ops;on it", []string{"not a check result: ACKNOWLEDGE_SVC_PROBLEM"}, true},
		{"command without arguments", "[1] SAVE_STATE_INFORMATION", []string{"not a check result: SAVE_STATE_INFORMATION"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := receiver.ParseNSCALine(tc.line)
			if err == nil {
				t.Fatalf("ParseNSCALine(%q) = %+v, want an error", tc.line, ev)
			}
			if !errors.Is(err, receiver.ErrBadLine) {
				t.Errorf("error %v does not match ErrBadLine", err)
			}
			if got := errors.Is(err, receiver.ErrUnsupportedCommand); got != tc.unsupported {
				t.Errorf("errors.Is(%v, ErrUnsupportedCommand) = %v, want %v", err, got, tc.unsupported)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func FuzzNSCALine(f *testing.F) {
	for _, s := range []string{
		"[1454900000] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;502",
		"[1454900000]\tPROCESS_HOST_CHECK_RESULT;web-01;1;down|rta=1ms\\nmore",
		"[1] ACKNOWLEDGE_SVC_PROBLEM;a;b",
		"[99999999999999999999] PROCESS_SERVICE_CHECK_RESULT;a;b;0;c",
		"[",
		"[]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ev, err := receiver.ParseNSCALine(line)
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
		if !strings.HasPrefix(line, "[") || !strings.Contains(line, "_CHECK_RESULT;") {
			t.Fatalf("accepted %q, which is no check result", line)
		}
	})
}
