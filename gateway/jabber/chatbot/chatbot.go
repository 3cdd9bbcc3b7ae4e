// Package chatbot reads and carries out the commands people give the jabber
// gateway's chat bot, without any XMPP: [Addressed] finds whether a room
// message is meant for the bot, [Parse] turns a command's text into a
// [Command], and an [Interpreter] carries it out against the checks, giving
// the reply and the events (acknowledgements, test notifications) to queue for
// the processor.
//
// The grammar is Flapjack v2's, case-insensitive, where <target> is a check
// name, "checks matching /<regex>/" or "checks with tag <tag>", and (N) an
// optional limit on the results:
//
//	help
//	identify
//	find (N) checks matching /re/      find (N) checks with tag T
//	state of <target>
//	tell me about (N) <target>
//	ACKID <hex> <comment> [duration: <duration>]
//	ack <target> [<comment>] [duration: <duration>]
//	maint <target> [start-in: <duration> | start-at: <time>] [duration: <duration>] [comment: <text>]
//	test notifications for <target>
//
// In "ack", a check name is one word (check names with spaces are reached with
// "checks matching"); the words after it are the comment. Elsewhere a check
// name is the rest of the command. Durations are human forms such as "2 hours",
// "90 minutes", "1h30m" or "1 day 4 hours".
package chatbot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultLimit is the result limit of find and tell me about when none is given.
const DefaultLimit = 30

// Kind is what a command asks for.
type Kind int

// The kinds of command.
const (
	Unknown Kind = iota
	Help
	Identify
	Find
	State
	TellMeAbout
	AckID
	Ack
	Maint
	TestNotifications
)

var kindNames = [...]string{"unknown", "help", "identify", "find", "state", "tell me about", "ACKID", "ack", "maint", "test notifications"}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// TargetKind says how a command names its checks.
type TargetKind int

// The kinds of target.
const (
	NoTarget TargetKind = iota
	ByName
	ByRegexp
	ByTag
)

// Target is the checks a command is about.
type Target struct {
	Kind TargetKind
	// Value is the check name, the regular expression (without slashes) or
	// the tag.
	Value string
}

// Descriptor is how replies name the target: "matching /re/", "with tag 'T'"
// or "with name 'N'".
func (t Target) Descriptor() string {
	switch t.Kind {
	case ByRegexp:
		return "matching /" + t.Value + "/"
	case ByTag:
		return "with tag '" + t.Value + "'"
	case ByName:
		return "with name '" + t.Value + "'"
	}
	return ""
}

// Command is one parsed command.
type Command struct {
	Kind   Kind
	Target Target
	// Limit bounds the results of find and tell me about: DefaultLimit unless
	// given.
	Limit int
	// AckID is the hash of an ACKID command, lower case.
	AckID string
	// Comment is the comment of ACKID, ack and maint; empty when not given.
	Comment string
	// Duration is the duration given with "duration:", zero when none was.
	Duration time.Duration
	// StartIn is maint's "start-in:" delay; StartAt its "start-at:" text, for
	// the caller to read as a time in its own zone.
	StartIn time.Duration
	StartAt string
	// Text is the command as given, trimmed: what an Unknown reply quotes.
	Text string
	// Problem is set on a command recognised but not usable, such as an
	// ACKID without a comment or an unreadable duration: the reply to give.
	Problem string
	// NeedsComment is set on an ACKID without a comment, which is refused
	// with [CommentHint].
	NeedsComment bool
}

// CommentHint is the reply to an ACKID command without a comment, for a bot
// named alias.
func CommentHint(alias, ackID string) string {
	return fmt.Sprintf("please provide a comment, eg \"%s: ACKID %s AL looking\"", alias, ackID)
}

// Addressed reports whether a room message is addressed to the bot, starting
// with "@<identifier>" or "<identifier>:" for one of identifiers (compared
// without case), and returns the command after it. Direct messages are
// commands as they are and need not go through it.
func Addressed(body string, identifiers []string) (string, bool) {
	b := strings.TrimSpace(body)
	lower := strings.ToLower(b)
	for _, id := range identifiers {
		if id == "" {
			continue
		}
		id = strings.ToLower(id)
		for _, prefix := range []string{"@" + id, id + ":"} {
			if !strings.HasPrefix(lower, prefix) {
				continue
			}
			rest := b[len(prefix):]
			// "@flapjack: help" and "@flapjack, help" are common too;
			// "@flapjacks" is someone else.
			if prefix[0] == '@' && rest != "" && !strings.ContainsAny(rest[:1], " \t\r\n:,") {
				continue
			}
			if prefix[0] == '@' {
				rest = strings.TrimLeft(rest, ":,")
			}
			return strings.TrimSpace(rest), true
		}
	}
	return "", false
}

// UnknownReply is the reply to a command that is not understood.
func UnknownReply(text string) string {
	return fmt.Sprintf("what do you mean, '%s'? Type 'help' for a list of acceptable commands.", text)
}

var (
	spaces    = regexp.MustCompile(`\s+`)
	findRE    = regexp.MustCompile(`(?is)^find\s+(?:(\d+)\s+)?checks\s+(.+)$`)
	stateRE   = regexp.MustCompile(`(?is)^state\s+of\s+(.+)$`)
	tellRE    = regexp.MustCompile(`(?is)^tell\s+me\s+about\s+(?:(\d+)\s+)?(.+)$`)
	ackIDRE   = regexp.MustCompile(`(?is)^ackid\s+([0-9a-f]+)(?:\s+(.*))?$`)
	ackRE     = regexp.MustCompile(`(?is)^ack\s+(.+)$`)
	maintRE   = regexp.MustCompile(`(?is)^maint\s+(.+)$`)
	testRE    = regexp.MustCompile(`(?is)^test\s+notifications\s+for\s+(.+)$`)
	matchRE   = regexp.MustCompile(`(?is)^checks\s+matching\s+/(.*)/(?:\s+(.*))?$`)
	tagRE     = regexp.MustCompile(`(?is)^checks\s+with\s+tag\s+(\S+)(?:\s+(.*))?$`)
	durationK = regexp.MustCompile(`(?i)\s*\bduration:\s*`)
	optionK   = regexp.MustCompile(`(?i)\b(start-in|start-at|duration|comment):\s*`)
)

// Parse reads one command. Text it does not understand is a Command of kind
// Unknown.
func Parse(text string) Command {
	text = strings.TrimSpace(text)
	c := Command{Text: text, Limit: DefaultLimit}
	lower := strings.ToLower(text)
	switch {
	case lower == "help":
		c.Kind = Help
	case lower == "identify":
		c.Kind = Identify
	case findRE.MatchString(text):
		m := findRE.FindStringSubmatch(text)
		c.Kind, c.Limit = Find, limit(m[1])
		t, rest, ok := checksTarget(m[2])
		if !ok || strings.TrimSpace(rest) != "" {
			return unknown(text)
		}
		c.Target = t
	case stateRE.MatchString(text):
		c.Kind, c.Target = State, target(stateRE.FindStringSubmatch(text)[1])
	case tellRE.MatchString(text):
		m := tellRE.FindStringSubmatch(text)
		c.Kind, c.Limit, c.Target = TellMeAbout, limit(m[1]), target(m[2])
	case testRE.MatchString(text):
		c.Kind, c.Target = TestNotifications, target(testRE.FindStringSubmatch(text)[1])
	case ackIDRE.MatchString(text):
		m := ackIDRE.FindStringSubmatch(text)
		c.Kind, c.AckID = AckID, strings.ToLower(m[1])
		rest, d, problem := splitDuration(m[2])
		c.Comment, c.Duration, c.Problem = rest, d, problem
		if c.Comment == "" && c.Problem == "" {
			c.NeedsComment = true
		}
	case ackRE.MatchString(text):
		rest, d, problem := splitDuration(ackRE.FindStringSubmatch(text)[1])
		c.Kind, c.Duration, c.Problem = Ack, d, problem
		if t, comment, ok := checksTarget(rest); ok {
			c.Target, c.Comment = t, strings.TrimSpace(comment)
		} else {
			name, comment, _ := strings.Cut(rest, " ")
			c.Target, c.Comment = Target{Kind: ByName, Value: name}, strings.TrimSpace(comment)
		}
		if c.Target.Value == "" && c.Target.Kind != ByRegexp {
			return unknown(text)
		}
	case maintRE.MatchString(text):
		return parseMaint(c, maintRE.FindStringSubmatch(text)[1])
	default:
		return unknown(text)
	}
	return c
}

func unknown(text string) Command { return Command{Kind: Unknown, Text: text, Limit: DefaultLimit} }

func limit(s string) int {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return n
	}
	return DefaultLimit
}

// checksTarget reads "checks matching /re/" or "checks with tag T" at the start
// of s, and returns what follows.
func checksTarget(s string) (Target, string, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(strings.ToLower(s), "checks") {
		s = "checks " + s // find's "checks" was consumed by its own pattern
	}
	if m := matchRE.FindStringSubmatch(s); m != nil {
		return Target{Kind: ByRegexp, Value: m[1]}, m[2], true
	}
	if m := tagRE.FindStringSubmatch(s); m != nil {
		return Target{Kind: ByTag, Value: m[1]}, m[2], true
	}
	return Target{}, "", false
}

// target reads a whole target: a checks form, or else a check name.
func target(s string) Target {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(strings.ToLower(s), "checks ") {
		if t, rest, ok := checksTarget(s); ok && strings.TrimSpace(rest) == "" {
			return t
		}
	}
	return Target{Kind: ByName, Value: s}
}

// splitDuration cuts a trailing "duration: <d>" from s.
func splitDuration(s string) (rest string, d time.Duration, problem string) {
	loc := durationK.FindStringIndex(s)
	if loc == nil {
		return strings.TrimSpace(s), 0, ""
	}
	rest = strings.TrimSpace(s[:loc[0]])
	d, err := ParseDuration(s[loc[1]:])
	if err != nil {
		return rest, 0, err.Error()
	}
	return rest, d, ""
}

func parseMaint(c Command, s string) Command {
	c.Kind = Maint
	locs := optionK.FindAllStringSubmatchIndex(s, -1)
	head := s
	if len(locs) > 0 {
		head = s[:locs[0][0]]
	}
	c.Target = target(head)
	if c.Target.Value == "" {
		return unknown(c.Text)
	}
	for i, loc := range locs {
		end := len(s)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		key, value := strings.ToLower(s[loc[2]:loc[3]]), strings.TrimSpace(s[loc[1]:end])
		switch key {
		case "comment":
			c.Comment = value
		case "start-at":
			c.StartAt = value
		case "start-in", "duration":
			d, err := ParseDuration(value)
			if err != nil {
				c.Problem = err.Error()
				continue
			}
			if key == "duration" {
				c.Duration = d
			} else {
				c.StartIn = d
			}
		}
	}
	return c
}

var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
}

var durationPart = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([a-z]+)`)

// ParseDuration reads a human duration: one or more "<number> <unit>" parts
// ("2 hours", "1h30m", "1 day, 4 hours", "an hour"), or a bare number of
// seconds.
func ParseDuration(s string) (time.Duration, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	text = spaces.ReplaceAllString(strings.ReplaceAll(text, ",", " "), " ")
	text = strings.TrimSpace(strings.ReplaceAll(text, " and ", " "))
	if text == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if n, err := strconv.ParseFloat(text, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	for _, article := range []string{"an ", "a "} {
		if strings.HasPrefix(text, article) {
			text = "1 " + text[len(article):]
		}
	}
	var total time.Duration
	for text != "" {
		m := durationPart.FindStringSubmatch(text)
		if m == nil {
			return 0, fmt.Errorf("cannot read %q as a duration", strings.TrimSpace(s))
		}
		unit, ok := units[m[2]]
		if !ok {
			return 0, fmt.Errorf("cannot read %q as a duration: unknown unit %q", strings.TrimSpace(s), m[2])
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		total += time.Duration(n * float64(unit))
		text = strings.TrimSpace(text[len(m[0]):])
	}
	return total, nil
}
