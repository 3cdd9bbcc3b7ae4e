package chatbot_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway/jabber/chatbot"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// setup makes the check example.com:ping (condition ok, tag example.com) and
// extra more checks matching /^example.com:p/, and returns its ack hash.
func setup(t *testing.T, extra int, failing bool) (*memory.Store, *chatbot.Interpreter, string) {
	t.Helper()
	s := memory.New()
	ctx := context.Background()
	mk := func(name string) flapjack.Check {
		c, err := s.UpdateCheck(ctx, name, true, func(u *store.CheckUpdate) error {
			u.Check.Enabled = true
			u.Check.Condition = flapjack.OK
			u.Check.Tags = []string{"example.com"}
			if failing {
				u.Check.Condition, u.Check.Failing = flapjack.Critical, true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c := mk("example.com:ping")
	for i := range extra {
		mk("example.com:ping" + string(rune('a'+i)))
	}
	in := &chatbot.Interpreter{Checks: s, Clock: fixedClock(now), Alias: "flapjack", Identifiers: []string{"flapjack"}, Version: "2.0.0"}
	return s, in, c.AckHash
}

func TestInterpreterE4(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		text    string
		extra   int
		failing bool
		exact   string
		prefix  string
		contain string
	}{
		{text: "help", prefix: "commands:"},
		{text: "identify", contain: "System CPU Time"},
		{text: "find checks matching /example/", exact: "Checks matching /example/:\nexample.com:ping is OK"},
		{text: "find 2 checks matching /example/", extra: 4, prefix: "Checks matching /example/:\nShowing first 2 results of 5:\nexample.com:ping is OK, example.com:pinga is OK"},
		{text: "find checks matching /(example/", exact: "Error parsing /(example/"},
		{text: "find checks matching /nothing/", exact: "No checks match /nothing/"},
		{text: "find checks with tag example.com", exact: "Checks with tag 'example.com':\nexample.com:ping is OK"},
		{text: "find checks with tag other", exact: "No tag 'other'"},
		{text: "state of example.com:ping", contain: "example.com:ping - OK"},
		{text: "state of checks with tag example.com", contain: "example.com:ping - OK"},
		{text: "state of checks matching /^example.com:p/", contain: "example.com:ping - OK"},
		{text: "state of other:ping", exact: "No check exists with name 'other:ping'"},
		{text: "tell me about example.com:ping", contain: "Not in scheduled or unscheduled maintenance."},
		{text: "tell me about\nexample.com:ping", contain: "Not in scheduled or unscheduled maintenance."},
		{text: "tell me about checks with tag example.com", contain: "Not in scheduled or unscheduled maintenance."},
		{text: "tell me about checks matching /^example.com:p/", contain: "Not in scheduled or unscheduled maintenance."},
		{text: "tell me about 2 checks matching /^example.com:p/", extra: 4, contain: "Showing first 2 results of 5:\nNot in scheduled or unscheduled maintenance."},
		{text: "ACKID HASH JJ looking duration: 1 hour", exact: "ACKing example.com:ping (HASH)"},
		{text: "ACKID HASH", exact: `please provide a comment, eg "flapjack: ACKID HASH AL looking"`},
		{text: "ACKID 0000ffff hi", exact: "ERROR - couldn't ACK 0000ffff - not found"},
		{text: "ack example.com:ping", failing: true, exact: "Ack list:\nexample.com:ping"},
		{text: "ack checks with tag example.com", failing: true, exact: "Ack list:\nexample.com:ping"},
		{text: "ack checks matching /^example.com:p/", failing: true, exact: "Ack list:\nexample.com:ping"},
		{text: "ack example.com:ping", exact: "No failing checks with name 'example.com:ping'"},
		{text: "maint example.com:ping start-in: 1 minute duration: 3 hour comment: test", exact: "Scheduled maintenance for 180 minutes starting at 2026-03-01 12:01:00 +0000 on:\nexample.com:ping"},
		{text: "maint checks with tag example.com start-in: 1 minute duration: 3 hour comment: test", exact: "Scheduled maintenance for 180 minutes starting at 2026-03-01 12:01:00 +0000 on:\nexample.com:ping"},
		{text: "maint checks matching /^example.com:p/ start-in: 1 minute duration: 3 hour comment: test", exact: "Scheduled maintenance for 180 minutes starting at 2026-03-01 12:01:00 +0000 on:\nexample.com:ping"},
		{text: "test notifications for example.com:ping", exact: "Testing notifications for check with name 'example.com:ping'"},
		{text: "test notifications for checks with tag example.com", exact: "Testing notifications for checks with tag 'example.com'"},
		{text: "test notifications for checks matching /^example.com:p/", exact: "Testing notifications for checks matching /^example.com:p/"},
		{text: "hello!", exact: "what do you mean, 'hello!'? Type 'help' for a list of acceptable commands."},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, in, hash := setup(t, tt.extra, tt.failing)
			text := strings.ReplaceAll(tt.text, "HASH", hash)
			got := in.Interpret(ctx, "jim", text).Reply
			switch exact := strings.ReplaceAll(tt.exact, "HASH", hash); {
			case tt.exact != "" && got != exact:
				t.Errorf("reply %q, want %q", got, exact)
			case tt.prefix != "" && !strings.HasPrefix(got, tt.prefix):
				t.Errorf("reply %q, want it to start %q", got, tt.prefix)
			case tt.contain != "" && !strings.Contains(got, tt.contain):
				t.Errorf("reply %q, want it to contain %q", got, tt.contain)
			}
		})
	}
}

// parse checks that ev is a valid event on the wire.
func parse(t *testing.T, ev chatbot.Event) flapjack.Event {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	e, err := flapjack.ParseEvent(b)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return e
}

func TestInterpreterEvents(t *testing.T) {
	ctx := context.Background()
	_, in, hash := setup(t, 0, true)

	res := in.Interpret(ctx, "jim", "ACKID "+hash+" JJ looking duration: 1 hour")
	if len(res.Events) != 1 {
		t.Fatalf("events %+v", res.Events)
	}
	e := parse(t, res.Events[0])
	if e.CheckName() != "example.com:ping" || e.State != "acknowledgement" || e.Summary != "JJ looking" || e.AcknowledgementID != hash || e.Duration == nil || *e.Duration != 3600 {
		t.Errorf("ACKID event %+v", e)
	}
	res = in.Interpret(ctx, "jim", "ACKID "+hash+" JJ looking duration: 0 seconds")
	if e := parse(t, res.Events[0]); *e.Duration != 4*3600 {
		t.Errorf("ACKID duration %d, want 4 hours", *e.Duration)
	}

	res = in.Interpret(ctx, "jim", "ack example.com:ping")
	if len(res.Events) != 1 {
		t.Fatalf("events %+v", res.Events)
	}
	e = parse(t, res.Events[0])
	if e.State != "acknowledgement" || e.Summary != "jim: Set via chatbot" || *e.Duration != 3600 {
		t.Errorf("ack event %+v", e)
	}
	res = in.Interpret(ctx, "jim", "ack example.com:ping on it duration: 2 hours")
	if e := parse(t, res.Events[0]); e.Summary != "jim: on it" || *e.Duration != 7200 {
		t.Errorf("ack event %+v", e)
	}

	res = in.Interpret(ctx, "jim", "test notifications for checks with tag example.com")
	if len(res.Events) != 1 {
		t.Fatalf("events %+v", res.Events)
	}
	e = parse(t, res.Events[0])
	if e.State != "test_notifications critical" || e.Summary != "Testing notifications to all contacts interested in checks with tag 'example.com'" {
		t.Errorf("test event %+v", e)
	}
}

func TestInterpreterMaintenance(t *testing.T) {
	ctx := context.Background()
	s, in, _ := setup(t, 0, false)
	res := in.Interpret(ctx, "jim", "maint example.com:ping start-in: 1 minute duration: 3 hour comment: test")
	if len(res.Events) != 0 {
		t.Errorf("events %+v", res.Events)
	}
	c, err := s.Check(ctx, "example.com:ping")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.ScheduledMaintenances) != 1 {
		t.Fatalf("maintenances %+v", c.ScheduledMaintenances)
	}
	m := c.ScheduledMaintenances[0]
	if !m.Start.Equal(now.Add(time.Minute)) || !m.End.Equal(now.Add(time.Minute+3*time.Hour)) || m.Summary != "test" {
		t.Errorf("maintenance %+v", m)
	}

	in.Clock = fixedClock(now.Add(time.Hour))
	got := in.Interpret(ctx, "jim", "tell me about example.com:ping").Reply
	want := "In scheduled maintenance: 2026-03-01 12:01:00 +0000 -> 2026-03-01 15:01:00 +0000 (2 hours, 1 minute remaining)\nNot in unscheduled maintenance."
	if !strings.Contains(got, want) {
		t.Errorf("reply %q, want it to contain %q", got, want)
	}

	in.Interpret(ctx, "jim", "maint example.com:ping")
	c, _ = s.Check(ctx, "example.com:ping")
	if m := c.ScheduledMaintenances[len(c.ScheduledMaintenances)-1]; m.End.Sub(m.Start) != time.Hour || m.Summary != "Test maintenance" {
		t.Errorf("default maintenance %+v", m)
	}
}

func TestPeriodInWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                                  "0 seconds",
		time.Second:                        "1 second",
		90 * time.Minute:                   "1 hour, 30 minutes",
		26*time.Hour + 2*time.Second:       "1 day, 2 hours, 2 seconds",
		time.Minute + 500*time.Millisecond: "1 minute, 1 second",
	} {
		if got := chatbot.PeriodInWords(d); got != want {
			t.Errorf("PeriodInWords(%v) = %q, want %q", d, got, want)
		}
	}
}

// brokenChecks fails every read.
type brokenChecks struct{ chatbot.Checks }

func (brokenChecks) Check(context.Context, string) (flapjack.Check, error) {
	return flapjack.Check{}, errors.New("store down")
}

func TestInterpreterInternalError(t *testing.T) {
	in := &chatbot.Interpreter{Checks: brokenChecks{}, Clock: fixedClock(now)}
	got := in.Interpret(context.Background(), "jim", "state of example.com:ping").Reply
	if want := "Oops, something went wrong processing that command (*errors.errorString, store down)"; got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
}
