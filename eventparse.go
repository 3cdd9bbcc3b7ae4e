package flapjack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/x/flapjack/internal/jsonwire"
)

// ErrInvalidEvent matches, with errors.Is, every error ParseEvent and Validate
// return: a *ValidationError, a body that is not a JSON object, and malformed JSON.
// The processor counts all of them alike as invalid events and rejects them.
var ErrInvalidEvent = errors.New("invalid event")

// Problem is one thing wrong with an event. Field is the key at fault (the
// offending key itself for an unknown key, shortened when long).
type Problem struct {
	Field, Message string
}

// ValidationError lists every problem found in one event, so that a producer
// can fix them all at once rather than one per round trip.
type ValidationError struct {
	Problems []Problem
}

// maxEcho bounds how much of the producer's input Error repeats: events come
// from anywhere and end up in logs.
const maxEcho = 100

// Error joins the problems as "invalid event: state: missing; foo: unknown key".
// Past maxEcho bytes of unknown key names the rest are only counted.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalidEvent.Error())
	echoed := 0
	for i, p := range e.Problems {
		if fieldIndex([]byte(p.Field)) < 0 { // the field name came from the input
			echoed += len(p.Field)
			if echoed > maxEcho && i > 0 {
				fmt.Fprintf(&b, "; and %d more", len(e.Problems)-i)
				break
			}
		}
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		if isPlainField(p.Field) {
			b.WriteString(p.Field)
		} else {
			b.WriteString(strconv.Quote(p.Field))
		}
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidEvent) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidEvent }

// isPlainField reports whether a field name can be printed unquoted without
// becoming ambiguous or injecting control characters into a log line.
func isPlainField(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// The event keys, in the order problems are reported.
const (
	fState = iota
	fCheck
	fEntity
	fTime
	fInitialFailureDelay
	fRepeatFailureDelay
	fInitialRecoveryDelay
	fSummary
	fDetails
	fPerfdata
	fAcknowledgementID
	fDuration
	fTags
	fType
	numFields
)

var fieldNames = [numFields]string{
	"state", "check", "entity", "time", "initial_failure_delay", "repeat_failure_delay",
	"initial_recovery_delay", "summary", "details", "perfdata", "acknowledgement_id",
	"duration", "tags", "type",
}

// fieldIndex returns the index of a known key, or -1. Keys match exactly, as in
// v2: "State" is an unknown key.
func fieldIndex(k []byte) int {
	switch string(k) { // no allocation: the compiler compares in place
	case "state":
		return fState
	case "check":
		return fCheck
	case "entity":
		return fEntity
	case "time":
		return fTime
	case "initial_failure_delay":
		return fInitialFailureDelay
	case "repeat_failure_delay":
		return fRepeatFailureDelay
	case "initial_recovery_delay":
		return fInitialRecoveryDelay
	case "summary":
		return fSummary
	case "details":
		return fDetails
	case "perfdata":
		return fPerfdata
	case "acknowledgement_id":
		return fAcknowledgementID
	case "duration":
		return fDuration
	case "tags":
		return fTags
	case "type":
		return fType
	}
	return -1
}

// ParseEvent decodes and validates one event in the wire format of Flapjack v2.
//
// The body must be one JSON object with the string keys "state" and "check"
// (absent, null and "" count as missing) and no keys but entity, time,
// initial_failure_delay, repeat_failure_delay, initial_recovery_delay, summary,
// details, perfdata, acknowledgement_id, duration, tags and type. Unknown and
// missing keys are reported alone; otherwise every type problem is reported:
//
//   - entity, summary, details, perfdata: string or null; the last three are
//     trimmed of surrounding white space.
//   - time, the delays and duration: a JSON integer, a string of ASCII digits, or
//     null. Negative delays and durations count as not given; an explicit 0 is kept.
//   - acknowledgement_id: string, integer (kept as its decimal text) or null.
//   - tags: array of strings, or null.
//   - type: anything; it is the v1 event type and is ignored.
//
// The state rules are those of Validate. Any null means "not given". When a key
// appears twice the last one counts, as with encoding/json and Ruby's JSON.
// Strings are decoded like encoding/json does, invalid UTF-8 becoming U+FFFD.
//
// Every error matches ErrInvalidEvent. The JSON is scanned by hand rather than
// through encoding/json's reflection because the processor is meant to handle
// hundreds of thousands of events a second; the scanner accepts exactly what
// encoding/json accepts, and for malformed JSON ParseEvent wraps encoding/json's
// *json.SyntaxError.
func ParseEvent(data []byte) (Event, error) {
	s := scanner{b: data}
	s.ws()
	first := s.i
	var d decoder
	object := first < len(data) && data[first] == '{'
	var ok bool
	if object {
		ok = s.object(&d.m)
	} else {
		ok = s.value()
	}
	if ok {
		s.ws()
		ok = s.i == len(data)
	}
	if !ok {
		return Event{}, syntaxError(data)
	}
	if !object {
		return Event{}, fmt.Errorf("%w: event must be a JSON object, got %s", ErrInvalidEvent, kindOf(data[first]))
	}
	return d.event()
}

// syntaxError asks encoding/json why data is not JSON, so that the message is the
// decoder's familiar one (it quotes at most one character of the input).
func syntaxError(data []byte) error {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("%w: parse error: %w", ErrInvalidEvent, err)
	}
	// Unreachable while the scanner agrees with encoding/json; kept so that a
	// disagreement rejects the event rather than crashes.
	return fmt.Errorf("%w: parse error: malformed JSON", ErrInvalidEvent)
}

// kindOf names the JSON type of a valid value from its first byte.
func kindOf(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// members is what the scanner keeps of the top-level object: the raw value of
// each known key, and the unknown keys.
type members struct {
	vals    [numFields][]byte
	plain   uint32 // bit per field whose value is a string without escapes or non-ASCII
	unknown []string
}

// add records one member; keyPlain and valPlain say whether key and (when it is a
// string) val are plain ASCII without escapes, so that they can be copied as is.
func (m *members) add(key []byte, keyPlain bool, val []byte, valPlain bool) {
	var f int
	if keyPlain {
		f = fieldIndex(key[1 : len(key)-1])
	} else {
		f = fieldIndex([]byte(decodeString(key)))
	}
	if f >= 0 {
		m.vals[f] = val
		if valPlain && val[0] == '"' {
			m.plain |= 1 << f
		} else {
			m.plain &^= 1 << f
		}
		return
	}
	m.unknown = append(m.unknown, shorten(decodeString(key), 32))
}

// shorten cuts s to at most n bytes on a rune boundary, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func isMissing(v []byte) bool {
	return v == nil || string(v) == "null" || string(v) == `""`
}

// decoder turns the raw values into an Event, collecting type problems. It holds
// the members rather than pointing to them so that nothing of it escapes.
type decoder struct {
	m     members
	e     Event
	probs []Problem
	bad   uint32 // bit per field whose type was wrong: no further rule applies
	ints  *[4]int64
	// arena holds the text of all plain string values, so that they cost one
	// allocation: a strings.Builder never changes bytes it has handed out.
	arena strings.Builder
}

// str decodes the string value of field f.
func (d *decoder) str(f int, v []byte) string {
	if d.m.plain&(1<<f) == 0 {
		return decodeString(v)
	}
	inner := v[1 : len(v)-1]
	if len(inner) == 0 {
		return ""
	}
	start := d.arena.Len()
	d.arena.Write(inner)
	return d.arena.String()[start:]
}

func (d *decoder) fail(f int, msg string) {
	d.probs = append(d.probs, Problem{Field: fieldNames[f], Message: msg})
	d.bad |= 1 << f
}

func (d *decoder) event() (Event, error) {
	m := &d.m
	var probs []Problem
	if isMissing(m.vals[fState]) {
		probs = append(probs, Problem{Field: "state", Message: "missing"})
	}
	if isMissing(m.vals[fCheck]) {
		probs = append(probs, Problem{Field: "check", Message: "missing"})
	}
	for _, k := range m.unknown {
		probs = append(probs, Problem{Field: k, Message: "unknown key"})
	}
	if len(probs) > 0 {
		return Event{}, &ValidationError{Problems: probs}
	}

	n := 0
	for _, f := range [...]int{fCheck, fEntity, fSummary, fDetails, fPerfdata, fAcknowledgementID} {
		if m.plain&(1<<f) != 0 {
			n += len(m.vals[f]) - 2
		}
	}
	d.arena.Grow(n)
	if v := m.vals[fState]; v[0] == '"' {
		d.e.State = decodeState(v)
	} else {
		d.fail(fState, "must be a string")
	}
	if v := m.vals[fCheck]; v[0] == '"' {
		d.e.Check = d.str(fCheck, v)
	} else {
		d.fail(fCheck, "must be a string")
	}
	d.e.Entity = d.optString(fEntity)
	if t, ok := d.integer(fTime); ok {
		d.e.Time = t
	}
	d.e.InitialFailureDelay = d.intPtr(fInitialFailureDelay, 0)
	d.e.RepeatFailureDelay = d.intPtr(fRepeatFailureDelay, 1)
	d.e.InitialRecoveryDelay = d.intPtr(fInitialRecoveryDelay, 2)
	d.e.Summary = d.optString(fSummary)
	d.e.Details = d.optString(fDetails)
	d.e.Perfdata = d.optString(fPerfdata)
	d.acknowledgementID()
	d.e.Duration = d.intPtr(fDuration, 3)
	d.tags()

	d.probs = d.e.normalize(d.probs, d.bad)
	if len(d.probs) > 0 {
		return Event{}, &ValidationError{Problems: d.probs}
	}
	return d.e, nil
}

// optString decodes a string-or-null key.
func (d *decoder) optString(f int) string {
	v := d.m.vals[f]
	switch {
	case v == nil || v[0] == 'n':
		return ""
	case v[0] == '"':
		return d.str(f, v)
	}
	d.fail(f, "must be a string or null")
	return ""
}

// integer decodes an integer-or-digit-string-or-null key; ok is false when the
// key is absent, null or wrong.
func (d *decoder) integer(f int) (n int64, ok bool) {
	v := d.m.vals[f]
	switch {
	case v == nil || v[0] == 'n':
		return 0, false
	case v[0] == '"':
		digits := v[1 : len(v)-1]
		if bytes.IndexByte(digits, '\\') >= 0 { // "\u0033" is a digit too
			digits = []byte(decodeString(v))
		}
		if isDigits(digits) {
			if n, ok := parseInt(digits); ok {
				return n, true
			}
			d.fail(f, "out of range")
			return 0, false
		}
	case v[0] == '-' || v[0] >= '0' && v[0] <= '9':
		if n, ok := parseInt(v); ok {
			return n, true
		}
		if isInteger(v) {
			d.fail(f, "out of range")
			return 0, false
		}
	}
	d.fail(f, "must be an integer or a string of digits")
	return 0, false
}

// intPtr decodes an optional integer into slot i of one array shared by the
// event's four optional integers, to allocate once.
func (d *decoder) intPtr(f, i int) *int64 {
	n, ok := d.integer(f)
	if !ok {
		return nil
	}
	if d.ints == nil {
		d.ints = new([4]int64)
	}
	d.ints[i] = n
	return &d.ints[i]
}

func (d *decoder) acknowledgementID() {
	v := d.m.vals[fAcknowledgementID]
	switch {
	case v == nil || v[0] == 'n':
	case v[0] == '"':
		d.e.AcknowledgementID = d.str(fAcknowledgementID, v)
	case isInteger(v): // any size: v2 accepts Ruby bignums
		d.e.AcknowledgementID = string(v)
	default:
		d.fail(fAcknowledgementID, "must be a string or an integer")
	}
}

func (d *decoder) tags() {
	v := d.m.vals[fTags]
	if v == nil || v[0] == 'n' {
		return
	}
	if v[0] != '[' {
		d.fail(fTags, "must be an array of strings or null")
		return
	}
	s := scanner{b: v, i: 1}
	var tags []string
	for {
		s.ws()
		if s.b[s.i] == ']' {
			break
		}
		start := s.i
		s.value() // v is known valid
		if v[start] != '"' {
			d.fail(fTags, "must be an array of strings or null")
			return
		}
		tags = append(tags, decodeString(v[start:s.i]))
		s.ws()
		if s.b[s.i] == ',' {
			s.i++
		}
	}
	d.e.Tags = tags
}

// isDigits reports whether b is one or more ASCII digits: v2's /^\d+$/ meant so.
func isDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// isInteger reports whether a JSON number has neither fraction nor exponent.
func isInteger(v []byte) bool {
	return len(v) > 0 && bytes.IndexAny(v, ".eE") < 0 && (v[0] == '-' || v[0] >= '0' && v[0] <= '9')
}

// parseInt parses an optional '-' and ASCII digits into an int64, refusing
// anything else and overflow. It spares strconv's string conversion.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (limit-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// decodeString decodes a valid JSON string literal. Plain ones, the usual case,
// are copied directly; the rest go through encoding/json for its exact escape and
// invalid-UTF-8 handling.
func decodeString(v []byte) string {
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "" // unreachable: v was scanned as a valid string
	}
	return s
}

// decodeState decodes the state string, without allocating for the states
// producers send most.
func decodeState(v []byte) string {
	switch string(v[1 : len(v)-1]) {
	case "ok":
		return string(OK)
	case "critical":
		return string(Critical)
	case "warning":
		return string(Warning)
	case "unknown":
		return string(Unknown)
	case "acknowledgement":
		return string(Acknowledgement)
	}
	return decodeString(v)
}

// Validate checks an event built in Go by the rules ParseEvent applies after
// decoding, and normalises it so that every consumer sees one form:
//
//   - Check must not be empty, nor State.
//   - State must be ok, warning, critical, unknown, acknowledgement or
//     test_notifications, in any case, or test_notifications, white space and
//     critical, warning or unknown (a request for a test alert of that
//     severity). It is rewritten lower-case, with one space before a
//     test severity: "test_notifications warning".
//   - Summary, Details and Perfdata are trimmed of surrounding white space.
//   - Negative delays and durations are set to nil: v2 accepted them but they
//     mean nothing, so they count as not given. A 0 stays a 0.
//   - Empty Tags become nil.
//
// It returns a *ValidationError listing every problem; the normalisation is done
// even then.
func (e *Event) Validate() error {
	if probs := e.normalize(nil, 0); len(probs) > 0 {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// normalize applies Validate's rules, skipping the rules of the fields in skip
// (those whose JSON type was already reported wrong), and appends to probs.
func (e *Event) normalize(probs []Problem, skip uint32) []Problem {
	if skip&(1<<fState) == 0 {
		if e.State == "" {
			probs = append(probs, Problem{Field: "state", Message: "missing"})
		} else if s, ok := canonicalState(e.State); ok {
			e.State = s
		} else {
			probs = append(probs, Problem{Field: "state", Message: strconv.Quote(shorten(e.State, 32)) +
				" is not one of ok, warning, critical, unknown, acknowledgement, test_notifications [critical|warning|unknown]"})
		}
	}
	if skip&(1<<fCheck) == 0 && e.Check == "" {
		probs = append(probs, Problem{Field: "check", Message: "missing"})
	}
	e.Summary = strings.TrimSpace(e.Summary)
	e.Details = strings.TrimSpace(e.Details)
	e.Perfdata = strings.TrimSpace(e.Perfdata)
	for _, p := range []**int64{&e.InitialFailureDelay, &e.RepeatFailureDelay, &e.InitialRecoveryDelay, &e.Duration} {
		if *p != nil && **p < 0 {
			*p = nil
		}
	}
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	return probs
}

// canonicalState returns the normal form of a state classifyState accepts. The
// form is built from the classification, not by lower-casing, so that it is one
// of a few constants.
func canonicalState(state string) (string, bool) {
	cond, action, test, ok := classifyState(state)
	switch {
	case !ok:
		return "", false
	case action == NoAction:
		return string(cond), true
	case action == Acknowledgement:
		return string(Acknowledgement), true
	}
	// A test request; the suffixed form is the only one with white space.
	if !strings.ContainsAny(state, " \t\r\n\v\f") {
		return string(TestNotifications), true
	}
	switch test {
	case Warning:
		return string(TestNotifications) + " " + string(Warning), true
	case Unknown:
		return string(TestNotifications) + " " + string(Unknown), true
	}
	return string(TestNotifications) + " " + string(Critical), true
}

// ParsePerfdata splits Nagios performance data such as "time=0.48s;;;0 size=909B;;;0"
// into items: each white-space separated "key=value;warn;crit;min;max" keeps the key
// and the value up to the first ';', and a token without '=' is a key with an empty
// value. It returns nil for empty data.
func ParsePerfdata(s string) []PerfDatum {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil
	}
	out := make([]PerfDatum, len(fields))
	for i, f := range fields {
		key, rest, found := strings.Cut(f, "=")
		if !found {
			out[i] = PerfDatum{Key: f}
			continue
		}
		value, _, _ := strings.Cut(rest, ";")
		out[i] = PerfDatum{Key: key, Value: value}
	}
	return out
}

// MarshalJSON writes the event in the wire format, leaving out empty optional
// keys (and time when 0), so that ParseEvent reads back the same event.
func (e Event) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 96+len(e.Entity)+len(e.Check)+len(e.Summary)+len(e.Details)+len(e.Perfdata))
	b = append(b, `{"state":`...)
	b = jsonwire.AppendString(b, e.State)
	b = append(b, `,"check":`...)
	b = jsonwire.AppendString(b, e.Check)
	if e.Entity != "" {
		b = append(b, `,"entity":`...)
		b = jsonwire.AppendString(b, e.Entity)
	}
	if e.Time != 0 {
		b = append(b, `,"time":`...)
		b = strconv.AppendInt(b, e.Time, 10)
	}
	b = appendInt(b, "initial_failure_delay", e.InitialFailureDelay)
	b = appendInt(b, "repeat_failure_delay", e.RepeatFailureDelay)
	b = appendInt(b, "initial_recovery_delay", e.InitialRecoveryDelay)
	for _, kv := range [...]struct{ k, v string }{
		{"summary", e.Summary}, {"details", e.Details}, {"perfdata", e.Perfdata},
		{"acknowledgement_id", e.AcknowledgementID},
	} {
		if kv.v != "" {
			b = append(b, `,"`...)
			b = append(b, kv.k...)
			b = append(b, `":`...)
			b = jsonwire.AppendString(b, kv.v)
		}
	}
	b = appendInt(b, "duration", e.Duration)
	if len(e.Tags) > 0 {
		b = append(b, `,"tags":`...)
		b = jsonwire.AppendStrings(b, e.Tags)
	}
	return append(b, '}'), nil
}

// UnmarshalJSON parses b with ParseEvent. Unlike most types, an event does not
// take JSON null as "leave unchanged": null is not an event.
func (e *Event) UnmarshalJSON(b []byte) error {
	ev, err := ParseEvent(b)
	if err != nil {
		return err
	}
	*e = ev
	return nil
}

func appendInt(b []byte, key string, n *int64) []byte {
	if n == nil {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":`...)
	return strconv.AppendInt(b, *n, 10)
}

// maxDepth is encoding/json's nesting limit, kept so that both accept the same
// documents.
const maxDepth = 10000

// scanner checks JSON by the grammar encoding/json accepts, without building
// anything; object hands the top-level members to a members.
type scanner struct {
	b     []byte
	i     int
	depth int
	plain bool // the last string scanned had no escape and no byte above 0x7f
}

// plainByte marks the bytes a string may hold that need no attention.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value starting at s.i.
func (s *scanner) value() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; c {
	case '"':
		return s.str()
	case '{':
		return s.object(nil)
	case '[':
		return s.array()
	case 't':
		return s.lit("true")
	case 'f':
		return s.lit("false")
	case 'n':
		return s.lit("null")
	default:
		if c == '-' || c >= '0' && c <= '9' {
			return s.number()
		}
	}
	return false
}

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return false
	}
	s.i += len(w)
	return true
}

func (s *scanner) str() bool {
	b := s.b
	i := s.i + 1
	plain := true
	for {
		for i < len(b) && plainByte[b[i]] {
			i++
		}
		if i >= len(b) {
			return false
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			s.plain = plain
			return true
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i++
			case 'u':
				if len(b)-i < 5 {
					return false
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 5
			default:
				return false
			}
		case c < 0x20:
			return false
		default: // a byte of a multi-byte (or invalid) UTF-8 sequence
			plain = false
			i++
		}
	}
}

func (s *scanner) digits(i int) int {
	for i < len(s.b) && s.b[i] >= '0' && s.b[i] <= '9' {
		i++
	}
	return i
}

func (s *scanner) number() bool {
	b, i := s.b, s.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return false
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		i = s.digits(i + 1)
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		j := s.digits(i + 1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := s.digits(i)
		if j == i {
			return false
		}
		i = j
	}
	s.i = i
	return true
}

// object scans an object; when m is not nil it records the members in it.
func (s *scanner) object(m *members) bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return true
	}
	for {
		k := s.i
		if k >= len(s.b) || s.b[k] != '"' || !s.str() {
			return false
		}
		key, keyPlain := s.b[k:s.i], s.plain
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return false
		}
		s.i++
		s.ws()
		v := s.i
		if !s.value() {
			return false
		}
		if m != nil {
			m.add(key, keyPlain, s.b[v:s.i], s.plain)
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case '}':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}

func (s *scanner) array() bool {
	s.depth++
	if s.depth > maxDepth {
		return false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value() {
			return false
		}
		s.ws()
		if s.i >= len(s.b) {
			return false
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			s.depth--
			return true
		default:
			return false
		}
	}
}
