package receiver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/x/flapjack"
)

// ErrUnsupportedCommand matches, besides ErrBadLine, the error of ParseNSCALine
// for a well-formed external command that carries no check result, such as
// ACKNOWLEDGE_SVC_PROBLEM: Nagios' command file carries many of those, and a
// receiver may want to skip them quietly.
var ErrUnsupportedCommand = errors.New("not a check result")

// ParseNSCALine reads one Nagios external command, as NSCA and other passive
// check submitters write them to Nagios' command file:
//
//	[<Unix time>] PROCESS_SERVICE_CHECK_RESULT;<host>;<service>;<return code>;<plugin output>
//	[<Unix time>] PROCESS_HOST_CHECK_RESULT;<host>;<return code>;<plugin output>
//
// Any white space (or none) may follow the time. A service's return code 0 is
// ok, 1 warning, 2 critical and 3 unknown; a host's 0 (up) is ok, and 1 (down)
// and 2 (unreachable) are critical; a host result is the check HostCheck of the
// host. The plugin output may hold semicolons. As Nagios reads it, its first
// line is the summary, with the performance data after a "|", and the lines
// after the first (written as a literal \n) are the details. The event's time
// is the command's.
//
// A line that does not fit yields an error matching ErrBadLine that says what
// is wrong; another external command also matches ErrUnsupportedCommand.
func ParseNSCALine(line string) (flapjack.Event, error) {
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	rest, ok := strings.CutPrefix(line, "[")
	stamp, cmd, closed := strings.Cut(rest, "]")
	if !ok || !closed {
		return flapjack.Event{}, fmt.Errorf("%w: does not start with [<Unix time>]", ErrBadLine)
	}
	t, ok := unixTime(stamp)
	if !ok {
		return flapjack.Event{}, fmt.Errorf("%w: time %s is not a Unix time in digits", ErrBadLine, quote(stamp))
	}
	name, args, _ := strings.Cut(strings.TrimLeft(cmd, " \t\v\f\r"), ";")
	var (
		ev     = flapjack.Event{Time: t}
		code   string
		output string
		parts  []string
		states map[string]flapjack.Condition
	)
	switch name {
	case "PROCESS_SERVICE_CHECK_RESULT":
		if parts = strings.SplitN(args, ";", 4); len(parts) < 4 {
			return flapjack.Event{}, fmt.Errorf("%w: %s needs <host>;<service>;<return code>;<plugin output>", ErrBadLine, name)
		}
		ev.Entity, ev.Check, code, output = parts[0], parts[1], parts[2], parts[3]
		states = serviceCodes
	case "PROCESS_HOST_CHECK_RESULT":
		if parts = strings.SplitN(args, ";", 3); len(parts) < 3 {
			return flapjack.Event{}, fmt.Errorf("%w: %s needs <host>;<return code>;<plugin output>", ErrBadLine, name)
		}
		ev.Entity, ev.Check, code, output = parts[0], HostCheck, parts[1], parts[2]
		states = hostCodes
	default:
		if name == "" || strings.Trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_0123456789") != "" {
			return flapjack.Event{}, fmt.Errorf("%w: %s is not an external command", ErrBadLine, quote(name))
		}
		return flapjack.Event{}, fmt.Errorf("%w: %w: %s", ErrBadLine, ErrUnsupportedCommand, name)
	}
	var problems []string
	if ev.Entity == "" {
		problems = append(problems, "host name is empty")
	}
	if ev.Check == "" {
		problems = append(problems, "service description is empty")
	}
	if c, ok := states[strings.TrimSpace(code)]; ok {
		ev.State = string(c)
	} else if name == "PROCESS_HOST_CHECK_RESULT" {
		problems = append(problems, fmt.Sprintf("return code %s is not 0 (up), 1 (down) or 2 (unreachable)", quote(code)))
	} else {
		problems = append(problems, fmt.Sprintf("return code %s is not 0 (ok), 1 (warning), 2 (critical) or 3 (unknown)", quote(code)))
	}
	if len(problems) > 0 {
		return flapjack.Event{}, fmt.Errorf("%w: %s: %s", ErrBadLine, name, strings.Join(problems, "; "))
	}
	first, long, _ := strings.Cut(output, `\n`)
	ev.Summary, ev.Perfdata, _ = strings.Cut(first, "|")
	ev.Details = strings.ReplaceAll(long, `\n`, "\n")
	return ev, nil
}

// The return codes of plugins, as Nagios reads them for services and hosts.
var (
	serviceCodes = map[string]flapjack.Condition{"0": flapjack.OK, "1": flapjack.Warning, "2": flapjack.Critical, "3": flapjack.Unknown}
	hostCodes    = map[string]flapjack.Condition{"0": flapjack.OK, "1": flapjack.Critical, "2": flapjack.Critical}
)
