package receiver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/x/flapjack"
)

// ErrBadLine matches, with errors.Is, every error of ParseNagiosLine and
// ParseNSCALine: a line that yields no event. Such lines are reported and
// skipped; the next line is read as usual.
var ErrBadLine = errors.New("rejected line")

// HostCheck is the check name of a host's own check ("<host>:HOST").
const HostCheck = "HOST"

// The host and service perfdata templates Nagios must be given, as in
// Flapjack v2's documentation; fields are separated by one tab.
const (
	NagiosHostTemplate    = "[HOSTPERFDATA]\t$TIMET$\t$HOSTNAME$\tHOST\t$HOSTSTATE$\t$HOSTEXECUTIONTIME$\t$HOSTLATENCY$\t$HOSTOUTPUT$\t$HOSTPERFDATA$"
	NagiosServiceTemplate = "[SERVICEPERFDATA]\t$TIMET$\t$HOSTNAME$\t$SERVICEDESC$\t$SERVICESTATE$\t$SERVICEEXECUTIONTIME$\t$SERVICELATENCY$\t$SERVICEOUTPUT$\t$SERVICEPERFDATA$"
)

// ParseNagiosLine reads one line of host or service performance data written
// with NagiosHostTemplate or NagiosServiceTemplate, optionally followed by a
// tenth field holding the long output ($LONGSERVICEOUTPUT$), in which Nagios
// writes line breaks as a literal \n.
//
// The line needs at least nine tab-separated fields; the first must be
// [HOSTPERFDATA] or [SERVICEPERFDATA] and the second ($TIMET$) digits. The
// event's entity is the host name and its check the service description, or
// HostCheck for a host check. Its state is the Nagios state: UP is ok, DOWN
// and UNREACHABLE are critical, and OK, WARNING, CRITICAL and UNKNOWN are
// themselves, in any case. Summary, perfdata and time are the output, the
// performance data and $TIMET$; details the long output. Fields past the tenth
// are ignored. A line ending (\n or \r\n) is ignored.
//
// A line that does not fit yields an error matching ErrBadLine that names every
// field at fault.
func ParseNagiosLine(line string) (flapjack.Event, error) {
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	f := strings.Split(line, "\t")
	if len(f) < 9 {
		return flapjack.Event{}, fmt.Errorf("%w: %d tab-separated field(s), want at least 9 (see the perfdata templates)", ErrBadLine, len(f))
	}
	var problems []string
	host := false
	switch f[0] {
	case "[HOSTPERFDATA]":
		host = true
	case "[SERVICEPERFDATA]":
	default:
		problems = append(problems, fmt.Sprintf("field 1 %s is neither [HOSTPERFDATA] nor [SERVICEPERFDATA]", quote(f[0])))
	}
	t, ok := unixTime(f[1])
	if !ok {
		problems = append(problems, fmt.Sprintf("field 2 (time) %s is not a Unix time in digits", quote(f[1])))
	}
	ev := flapjack.Event{Entity: f[2], Check: f[3], Time: t, Summary: f[7], Perfdata: f[8]}
	if ev.Entity == "" {
		problems = append(problems, "field 3 (host name) is empty")
	}
	if host {
		ev.Check = HostCheck
	} else if ev.Check == "" {
		problems = append(problems, "field 4 (service description) is empty")
	}
	if c, ok := nagiosState(f[4]); ok {
		ev.State = string(c)
	} else {
		problems = append(problems, fmt.Sprintf("field 5 (state) %s is not UP, DOWN, UNREACHABLE, OK, WARNING, CRITICAL or UNKNOWN", quote(f[4])))
	}
	if len(f) > 9 {
		ev.Details = strings.ReplaceAll(f[9], `\n`, "\n")
	}
	if len(problems) > 0 {
		return flapjack.Event{}, fmt.Errorf("%w: %s", ErrBadLine, strings.Join(problems, "; "))
	}
	return ev, nil
}

// nagiosState maps a Nagios host or service state to a condition.
func nagiosState(s string) (flapjack.Condition, bool) {
	switch strings.ToLower(s) {
	case "up", "ok":
		return flapjack.OK, true
	case "down", "unreachable", "critical":
		return flapjack.Critical, true
	case "warning":
		return flapjack.Warning, true
	case "unknown":
		return flapjack.Unknown, true
	}
	return flapjack.NoCondition, false
}

// unixTime parses a non-empty string of ASCII digits that fits an int64.
func unixTime(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// quote shows a piece of a rejected line, quoted and cut short: lines come from
// anywhere and end up in logs.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}
