package chatbot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

// Checks is the part of a store the interpreter reads and writes.
type Checks interface {
	QueryChecks(ctx context.Context, q store.CheckQuery) ([]flapjack.Check, error)
	Check(ctx context.Context, name string) (flapjack.Check, error)
	CheckByAckHash(ctx context.Context, hash string) (flapjack.Check, error)
	UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error)
}

// Event is an event a command emits, for the processor's queue. Its JSON form
// is the event wire format.
type Event struct {
	Check             string `json:"check"`
	State             string `json:"state"`
	Summary           string `json:"summary"`
	Time              int64  `json:"time"`
	Duration          *int64 `json:"duration,omitempty"`
	AcknowledgementID string `json:"acknowledgement_id,omitempty"`
}

// Result is what a command gives: the reply and the events to push after it.
type Result struct {
	Reply  string
	Events []Event
}

// Defaults of the interpreter's commands.
const (
	AckIDDuration   = 4 * time.Hour
	AckDuration     = time.Hour
	MaintDuration   = time.Hour
	MaintComment    = "Test maintenance"
	startTimeLayout = "2006-01-02 15:04:05 -0700"
)

// processStart is when this process started, near enough.
var processStart = time.Now()

// Interpreter carries out chat commands against the checks.
type Interpreter struct {
	Checks Checks
	// Clock is the time commands act at; nil means the system clock.
	Clock flapjack.Clock
	// Alias is the bot's nickname, quoted in hints; Identifiers all the names
	// it answers to.
	Alias       string
	Identifiers []string
	// Version is the Flapjack version identify reports; empty means the
	// module's build version, or "dev".
	Version string
	// Location reads maint's start-at times and shows times; nil means UTC.
	Location *time.Location
	// BootTime is when the process started; zero means the package's load time.
	BootTime time.Time
}

func (in *Interpreter) now() time.Time {
	if in.Clock == nil {
		return time.Now()
	}
	return in.Clock.Now()
}

func (in *Interpreter) loc() *time.Location {
	if in.Location == nil {
		return time.UTC
	}
	return in.Location
}

// userError is a reply to give instead of carrying out a command.
type userError string

func (e userError) Error() string { return string(e) }

// Interpret carries out the command text said by nick (the speaker's room
// nickname or user name).
func (in *Interpreter) Interpret(ctx context.Context, nick, text string) Result {
	res, err := in.interpret(ctx, nick, Parse(text))
	if err != nil {
		var ue userError
		if errors.As(err, &ue) {
			return Result{Reply: string(ue)}
		}
		return Result{Reply: fmt.Sprintf("Oops, something went wrong processing that command (%T, %s)", err, err)}
	}
	return res
}

func (in *Interpreter) interpret(ctx context.Context, nick string, c Command) (Result, error) {
	if c.Kind == Unknown {
		return Result{Reply: UnknownReply(c.Text)}, nil
	}
	if c.NeedsComment {
		return Result{Reply: CommentHint(in.alias(), c.AckID)}, nil
	}
	if c.Problem != "" {
		return Result{Reply: c.Problem}, nil
	}
	switch c.Kind {
	case Help:
		return Result{Reply: helpText}, nil
	case Identify:
		return Result{Reply: in.identify()}, nil
	case Find:
		return in.find(ctx, c)
	case State:
		return in.state(ctx, c)
	case TellMeAbout:
		return in.tell(ctx, c)
	case AckID:
		return in.ackID(ctx, c)
	case Ack:
		return in.ack(ctx, nick, c)
	case Maint:
		return in.maint(ctx, c)
	case TestNotifications:
		return in.test(ctx, c)
	}
	return Result{Reply: UnknownReply(c.Text)}, nil
}

func (in *Interpreter) alias() string {
	if in.Alias != "" {
		return in.Alias
	}
	return "flapjack"
}

const helpText = `commands:
  find (number) checks matching /check regex/
  find (number) checks with tag <tag>
  state of <check>
  state of checks matching /check regex/
  state of checks with tag <tag>
  tell me about (number) <check>
  tell me about (number) checks matching /check regex/
  tell me about (number) checks with tag <tag>
  ACKID <id> <comment> [duration: <time spec>]
  ack <check> [<comment>] [duration: <time spec>]
  ack checks matching /check regex/ [<comment>] [duration: <time spec>]
  ack checks with tag <tag> [<comment>] [duration: <time spec>]
  maint <check> [start-in: <time spec> | start-at: <time>] [duration: <time spec>] [comment: <comment>]
  maint checks matching /check regex/ [start-in: ...] [duration: ...] [comment: ...]
  maint checks with tag <tag> [start-in: ...] [duration: ...] [comment: ...]
  test notifications for <check>
  test notifications for checks matching /check regex/
  test notifications for checks with tag <tag>
  identify
  help`

func (in *Interpreter) identify() string {
	host, _ := os.Hostname()
	boot := in.BootTime
	if boot.IsZero() {
		boot = processStart
	}
	version := in.Version
	if version == "" {
		version = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
	}
	var ru syscall.Rusage
	var user, sys time.Duration
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		user = time.Duration(ru.Utime.Nano())
		sys = time.Duration(ru.Stime.Nano())
	}
	ids := in.Identifiers
	if len(ids) == 0 {
		ids = []string{in.alias()}
	}
	return fmt.Sprintf("Flapjack %s process %d on %s\nIdentifiers: %s\nBoot time: %s\nUser CPU Time: %s\nSystem CPU Time: %s\n%s %s %s %s",
		version, os.Getpid(), host, strings.Join(ids, ", "), boot.In(in.loc()).Format(startTimeLayout),
		user, sys, runtime.GOOS, host, runtime.GOARCH, runtime.Version())
}

// resolve returns the target's checks sorted by name, or the reply saying
// why there are none.
func (in *Interpreter) resolve(ctx context.Context, t Target) ([]flapjack.Check, error) {
	switch t.Kind {
	case ByName:
		c, err := in.Checks.Check(ctx, t.Value)
		if errors.Is(err, store.ErrNotFound) {
			return nil, userError(fmt.Sprintf("No check exists with name '%s'", t.Value))
		}
		if err != nil {
			return nil, err
		}
		return []flapjack.Check{c}, nil
	case ByRegexp:
		re, err := regexp.Compile(t.Value)
		if err != nil {
			return nil, userError(fmt.Sprintf("Error parsing /%s/", t.Value))
		}
		all, err := in.Checks.QueryChecks(ctx, store.CheckQuery{})
		if err != nil {
			return nil, err
		}
		var out []flapjack.Check
		for _, c := range all {
			if re.MatchString(c.Name) {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			return nil, userError(fmt.Sprintf("No checks match /%s/", t.Value))
		}
		return sortByName(out), nil
	case ByTag:
		all, err := in.Checks.QueryChecks(ctx, store.CheckQuery{})
		if err != nil {
			return nil, err
		}
		var out []flapjack.Check
		for _, c := range all {
			if c.HasTag(t.Value) {
				out = append(out, c)
			}
		}
		if len(out) == 0 {
			// Tags live on checks: a tag no check carries does not exist.
			return nil, userError(fmt.Sprintf("No tag '%s'", t.Value))
		}
		return sortByName(out), nil
	}
	return nil, fmt.Errorf("no target")
}

func sortByName(cs []flapjack.Check) []flapjack.Check {
	slices.SortFunc(cs, func(a, b flapjack.Check) int { return strings.Compare(a.Name, b.Name) })
	return cs
}

func condition(c flapjack.Check) string {
	if c.Condition == flapjack.NoCondition {
		return "[none]"
	}
	return strings.ToUpper(string(c.Condition))
}

// first cuts checks to limit, with the "Showing first" line when it does.
func first(checks []flapjack.Check, limit int) ([]flapjack.Check, string) {
	if limit <= 0 || len(checks) <= limit {
		return checks, ""
	}
	return checks[:limit], fmt.Sprintf("Showing first %d results of %d:\n", limit, len(checks))
}

func (in *Interpreter) find(ctx context.Context, c Command) (Result, error) {
	checks, err := in.resolve(ctx, c.Target)
	if err != nil {
		return Result{}, err
	}
	checks, showing := first(checks, c.Limit)
	items := make([]string, len(checks))
	for i, ch := range checks {
		items[i] = ch.Name + " is " + condition(ch)
	}
	return Result{Reply: "Checks " + c.Target.Descriptor() + ":\n" + showing + strings.Join(items, ", ")}, nil
}

func (in *Interpreter) state(ctx context.Context, c Command) (Result, error) {
	checks, err := in.resolve(ctx, c.Target)
	if err != nil {
		return Result{}, err
	}
	lines := make([]string, len(checks))
	for i, ch := range checks {
		lines[i] = ch.Name + " - " + condition(ch)
	}
	return Result{Reply: "State of checks " + c.Target.Descriptor() + ":\n" + strings.Join(lines, "\n")}, nil
}

func (in *Interpreter) tell(ctx context.Context, c Command) (Result, error) {
	checks, err := in.resolve(ctx, c.Target)
	if err != nil {
		return Result{}, err
	}
	checks, showing := first(checks, c.Limit)
	now := in.now()
	var b strings.Builder
	b.WriteString("Details of checks " + c.Target.Descriptor() + "\n" + showing)
	for _, ch := range checks {
		sched, inSched := ch.InScheduledMaintenance(now)
		unsched, inUnsched := ch.InUnscheduledMaintenance(now)
		if !inSched && !inUnsched {
			b.WriteString("Not in scheduled or unscheduled maintenance.\n")
			continue
		}
		for _, w := range []struct {
			name string
			m    flapjack.Maintenance
			in   bool
		}{{"scheduled", sched, inSched}, {"unscheduled", unsched, inUnsched}} {
			if !w.in {
				fmt.Fprintf(&b, "Not in %s maintenance.\n", w.name)
				continue
			}
			remain := w.m.End.Sub(now)
			fmt.Fprintf(&b, "In %s maintenance: %s -> %s (%s remaining)\n", w.name,
				w.m.Start.In(in.loc()).Format(startTimeLayout), w.m.End.In(in.loc()).Format(startTimeLayout),
				PeriodInWords(remain))
		}
	}
	return Result{Reply: strings.TrimRight(b.String(), "\n")}, nil
}

// PeriodInWords writes d, rounded up to the second, as "1 day, 2 hours, 3
// minutes, 4 seconds", leaving out the parts that are zero.
func PeriodInWords(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 0 {
		secs = 0
	}
	parts := []struct {
		n    int64
		unit string
	}{{secs / 86400, "day"}, {secs % 86400 / 3600, "hour"}, {secs % 3600 / 60, "minute"}, {secs % 60, "second"}}
	var out []string
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		s := fmt.Sprintf("%d %s", p.n, p.unit)
		if p.n != 1 {
			s += "s"
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "0 seconds"
	}
	return strings.Join(out, ", ")
}

func seconds(d time.Duration) *int64 {
	s := int64(d / time.Second)
	return &s
}

func (in *Interpreter) ackID(ctx context.Context, c Command) (Result, error) {
	ch, err := in.Checks.CheckByAckHash(ctx, c.AckID)
	if errors.Is(err, store.ErrNotFound) {
		return Result{Reply: fmt.Sprintf("ERROR - couldn't ACK %s - not found", c.AckID)}, nil
	}
	if err != nil {
		return Result{}, err
	}
	d := c.Duration
	if d <= 0 {
		d = AckIDDuration
	}
	now := in.now()
	reply := fmt.Sprintf("ACKing %s (%s)", ch.Name, c.AckID)
	if _, acked := ch.InUnscheduledMaintenance(now); acked {
		reply = fmt.Sprintf("Changing ACK for %s (%s)", ch.Name, c.AckID)
	}
	return Result{Reply: reply, Events: []Event{{
		Check: ch.Name, State: "acknowledgement", Summary: c.Comment, Time: now.Unix(),
		Duration: seconds(d), AcknowledgementID: c.AckID,
	}}}, nil
}

func (in *Interpreter) ack(ctx context.Context, nick string, c Command) (Result, error) {
	checks, err := in.resolve(ctx, c.Target)
	if err != nil {
		return Result{}, err
	}
	var names []string
	var events []Event
	d := c.Duration
	if d <= 0 {
		d = AckDuration
	}
	summary := nick + ": Set via chatbot"
	if c.Comment != "" {
		summary = nick + ": " + c.Comment
	}
	now := in.now()
	for _, ch := range checks {
		if !ch.Failing {
			continue
		}
		names = append(names, ch.Name)
		events = append(events, Event{Check: ch.Name, State: "acknowledgement", Summary: summary, Time: now.Unix(), Duration: seconds(d)})
	}
	if len(names) == 0 {
		return Result{Reply: "No failing checks " + c.Target.Descriptor()}, nil
	}
	return Result{Reply: "Ack list:\n" + strings.Join(names, "\n"), Events: events}, nil
}

var startAtLayouts = []string{
	time.RFC3339, "2006-01-02 15:04:05 -0700", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04",
	"2006-01-02", "15:04:05", "15:04",
}

func (in *Interpreter) startAt(s string, now time.Time) (time.Time, error) {
	now = now.In(in.loc())
	for _, layout := range startAtLayouts {
		t, err := time.ParseInLocation(layout, s, in.loc())
		if err != nil {
			continue
		}
		if !strings.Contains(layout, "2006") { // a time of day: today's
			t = time.Date(now.Year(), now.Month(), now.Day(), t.Hour(), t.Minute(), t.Second(), 0, in.loc())
		}
		return t, nil
	}
	return time.Time{}, userError(fmt.Sprintf("Couldn't parse start-at time '%s'", s))
}

func (in *Interpreter) maint(ctx context.Context, c Command) (Result, error) {
	checks, err := in.resolve(ctx, c.Target)
	if err != nil {
		return Result{}, err
	}
	now := in.now()
	start := now.Add(c.StartIn)
	if c.StartAt != "" {
		if start, err = in.startAt(c.StartAt, now); err != nil {
			return Result{}, err
		}
	}
	d := c.Duration
	if d <= 0 {
		d = MaintDuration
	}
	comment := c.Comment
	if comment == "" {
		comment = MaintComment
	}
	names := make([]string, 0, len(checks))
	for _, ch := range checks {
		m := flapjack.Maintenance{ID: uuid.NewString(), Start: start, End: start.Add(d), Summary: comment}
		_, err := in.Checks.UpdateCheck(ctx, ch.Name, false, func(u *store.CheckUpdate) error {
			u.Check.ScheduledMaintenances = append(u.Check.ScheduledMaintenances, m)
			return nil
		})
		if err != nil {
			return Result{}, err
		}
		names = append(names, ch.Name)
	}
	return Result{Reply: fmt.Sprintf("Scheduled maintenance for %d minutes starting at %s on:\n%s",
		int64(d/time.Minute), start.In(in.loc()).Format(startTimeLayout), strings.Join(names, "\n"))}, nil
}

func (in *Interpreter) test(ctx context.Context, c Command) (Result, error) {
	checks, err := in.resolve(ctx, c.Target)
	if err != nil {
		return Result{}, err
	}
	summary := "Testing notifications to all contacts interested in checks " + c.Target.Descriptor()
	now := in.now()
	events := make([]Event, len(checks))
	for i, ch := range checks {
		events[i] = Event{Check: ch.Name, State: "test_notifications critical", Summary: summary, Time: now.Unix()}
	}
	noun := "checks"
	if c.Target.Kind == ByName {
		noun = "check"
	}
	return Result{Reply: "Testing notifications for " + noun + " " + c.Target.Descriptor(), Events: events}, nil
}
