package redisstore

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/x/flapjack"
)

// Every event reads a check's document and writes it back, so checks and their
// history entries are encoded and decoded by hand: encoding/json's reflection
// was the larger part of the processor's time on Redis. encodeCheck writes byte
// for byte what json.Marshal writes; decodeCheck reads that form (any key
// order, escapes included) and leaves anything else — white space, null, an
// unknown or repeated key, a malformed document — to encoding/json, so that its
// outcome is always json.Unmarshal's. TestCheckJSONMatchesEncodingJSON and
// FuzzDecodeCheck hold them to it.

// encodeCheck returns c as json.Marshal encodes it.
func encodeCheck(c *flapjack.Check) ([]byte, error) {
	size := 300 + len(c.ID) + len(c.Name) + len(c.AckHash)
	for _, t := range c.Tags {
		size += 3 + len(t)
	}
	if c.CurrentState != nil {
		size += stateSize(c.CurrentState)
	}
	for i := range c.LatestNotifications {
		size += stateSize(&c.LatestNotifications[i])
	}
	size += 120 * (len(c.ScheduledMaintenances) + len(c.UnscheduledMaintenances))
	return appendCheck(make([]byte, 0, size), c)
}

func appendCheck(b []byte, c *flapjack.Check) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"name":`...)
	b = appendString(b, c.Name)
	b = append(b, `,"enabled":`...)
	b = strconv.AppendBool(b, c.Enabled)
	if len(c.Tags) > 0 {
		b = append(b, `,"tags":[`...)
		for i, t := range c.Tags {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, t)
		}
		b = append(b, ']')
	}
	b = appendIntPtr(b, `,"initial_failure_delay":`, c.InitialFailureDelay)
	b = appendIntPtr(b, `,"repeat_failure_delay":`, c.RepeatFailureDelay)
	b = appendIntPtr(b, `,"initial_recovery_delay":`, c.InitialRecoveryDelay)
	b = append(b, `,"ack_hash":`...)
	b = appendString(b, c.AckHash)
	b = append(b, `,"notification_count":`...)
	b = strconv.AppendInt(b, c.NotificationCount, 10)
	b = appendOptString(b, `,"condition":`, string(c.Condition))
	b = append(b, `,"failing":`...)
	b = strconv.AppendBool(b, c.Failing)
	b = append(b, `,"alertable":`...)
	b = strconv.AppendBool(b, c.Alertable)
	if c.CurrentState != nil {
		b = append(b, `,"current_state":`...)
		if b, err = appendState(b, c.CurrentState); err != nil {
			return nil, err
		}
	}
	if len(c.LatestNotifications) > 0 {
		b = append(b, `,"latest_notifications":[`...)
		for i := range c.LatestNotifications {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendState(b, &c.LatestNotifications[i]); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = appendOptString(b, `,"most_severe":`, string(c.MostSevere))
	if b, err = appendMaintenances(b, `,"scheduled_maintenances":[`, c.ScheduledMaintenances); err != nil {
		return nil, err
	}
	if b, err = appendMaintenances(b, `,"unscheduled_maintenances":[`, c.UnscheduledMaintenances); err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

func appendMaintenances(b []byte, key string, ms []flapjack.Maintenance) ([]byte, error) {
	if len(ms) == 0 {
		return b, nil
	}
	var err error
	b = append(b, key...)
	for i := range ms {
		m := &ms[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = appendString(b, m.ID)
		b = append(b, `,"start_time":`...)
		if b, err = appendTime(b, m.Start); err != nil {
			return nil, err
		}
		b = append(b, `,"end_time":`...)
		if b, err = appendTime(b, m.End); err != nil {
			return nil, err
		}
		b = appendOptString(b, `,"summary":`, m.Summary)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// encodeState returns s as json.Marshal encodes it.
func encodeState(s *flapjack.State) ([]byte, error) {
	return appendState(make([]byte, 0, stateSize(s)), s)
}

func stateSize(s *flapjack.State) int {
	n := 150 + len(s.Summary) + len(s.Details)
	for _, p := range s.Perfdata {
		n += 20 + len(p.Key) + len(p.Value)
	}
	return n
}

func appendState(b []byte, s *flapjack.State) ([]byte, error) {
	b = append(b, `{"created_at":`...)
	b, err := appendTime(b, s.CreatedAt)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendTime(b, s.UpdatedAt); err != nil {
		return nil, err
	}
	b = appendOptString(b, `,"condition":`, string(s.Condition))
	b = appendOptString(b, `,"action":`, string(s.Action))
	b = appendOptString(b, `,"summary":`, s.Summary)
	b = appendOptString(b, `,"details":`, s.Details)
	if len(s.Perfdata) > 0 {
		b = append(b, `,"perfdata":[`...)
		for i, p := range s.Perfdata {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = appendString(b, p.Key)
			b = append(b, `,"value":`...)
			b = appendString(b, p.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendTime appends t as time.Time's MarshalJSON does, failing as it does for
// a year outside 0-9999.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		_, err = t.MarshalJSON() // for MarshalJSON's own message
		return nil, err
	}
	return append(b, '"'), nil
}

func appendIntPtr(b []byte, key string, p *int64) []byte {
	if p == nil {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, *p, 10)
}

func appendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return appendString(b, s)
}

// htmlSafe marks the bytes encoding/json writes as they are in a string: ASCII
// but control characters, '"', '\\' and the HTML-sensitive '<', '>' and '&'.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string exactly as encoding/json does: <, >
// and & escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if htmlSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeCheck decodes a check's document as json.Unmarshal into a zero Check
// does.
func decodeCheck(data []byte) (flapjack.Check, error) {
	return decodeCheckFrom(cursor{b: data}, data)
}

// decodeCheckString is decodeCheck of a document read as a string: the strings
// of the check without escapes are parts of it rather than copies.
func decodeCheckString(doc string) (flapjack.Check, error) {
	data := unsafe.Slice(unsafe.StringData(doc), len(doc)) // only read
	return decodeCheckFrom(cursor{b: data, src: doc}, data)
}

func decodeCheckFrom(d cursor, data []byte) (flapjack.Check, error) {
	var c flapjack.Check
	if d.check(&c) && d.i == len(data) {
		return c, nil
	}
	c = flapjack.Check{}
	err := json.Unmarshal(data, &c)
	return c, err
}

// decodeState decodes a history entry as json.Unmarshal into a zero State does.
func decodeState(data []byte) (flapjack.State, error) {
	d := cursor{b: data}
	var s flapjack.State
	if d.state(&s) && d.i == len(data) {
		return s, nil
	}
	s = flapjack.State{}
	err := json.Unmarshal(data, &s)
	return s, err
}

// cursor reads the form encodeCheck writes. Its methods report false for
// anything else, valid JSON or not, which is then left to encoding/json.
type cursor struct {
	b []byte
	i int
	// src, when not empty, is b as a string, which strings without escapes
	// are taken from.
	src string
	// arena holds the text of every other string, in one allocation.
	arena strings.Builder
}

func (d *cursor) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

// key reads `"key":` of a key without escapes.
func (d *cursor) key() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		if c == '"' {
			k := d.b[start:d.i]
			d.i++
			return k, d.byte(':')
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			return nil, false
		}
		d.i++
	}
	return nil, false
}

// object reads an object whose members member reads, each at most once (seen
// tracks them by the bit member returns).
func (d *cursor) object(member func(key []byte) (bit uint32, ok bool)) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	var seen uint32
	for {
		key, ok := d.key()
		if !ok {
			return false
		}
		bit, ok := member(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.byte('}') {
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}

// array reads an array whose elements elem reads; empty reports whether it was
// empty.
func (d *cursor) array(elem func() bool) (empty, ok bool) {
	if !d.byte('[') {
		return false, false
	}
	if d.byte(']') {
		return true, true
	}
	for {
		if !elem() {
			return false, false
		}
		if d.byte(']') {
			return false, true
		}
		if !d.byte(',') {
			return false, false
		}
	}
}

// str reads a string, unescaping it as encoding/json does. Invalid UTF-8, which
// encoding/json replaces, is left to it.
func (d *cursor) str() (string, bool) {
	if !d.byte('"') {
		return "", false
	}
	first := d.i
	start, run := 0, 0 // where the string starts in the arena; what to copy from
	escaped := false
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			switch {
			case escaped:
				d.arena.Write(d.b[run : d.i-1])
				return d.arena.String()[start:], true
			case d.src != "":
				return d.src[first : d.i-1], true
			case d.i-1 == first:
				return "", true
			}
			d.grow()
			start = d.arena.Len()
			d.arena.Write(d.b[first : d.i-1])
			return d.arena.String()[start:], true
		case c == '\\':
			if !escaped {
				escaped = true
				d.grow()
				start, run = d.arena.Len(), first
			}
			d.arena.Write(d.b[run:d.i])
			if !d.escape() {
				return "", false
			}
			run = d.i
		case c < 0x20:
			return "", false
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			d.i += size
		}
	}
	return "", false
}

// grow makes room in the arena for every string of the document, once: their
// text is shorter than the document, so none moves.
func (d *cursor) grow() {
	if d.arena.Cap() == 0 {
		d.arena.Grow(len(d.b))
	}
}

// escape reads one escape sequence into the arena.
func (d *cursor) escape() bool {
	if d.i+1 >= len(d.b) {
		return false
	}
	c := d.b[d.i+1]
	switch c {
	case '"', '\\', '/':
		d.arena.WriteByte(c)
	case 'b':
		d.arena.WriteByte('\b')
	case 'f':
		d.arena.WriteByte('\f')
	case 'n':
		d.arena.WriteByte('\n')
	case 'r':
		d.arena.WriteByte('\r')
	case 't':
		d.arena.WriteByte('\t')
	case 'u':
		r, ok := hex4(d.b[d.i+2:])
		if !ok {
			return false
		}
		d.i += 6
		if utf16.IsSurrogate(r) {
			// As encoding/json: a pair makes one rune; anything else is U+FFFD,
			// and what follows is read on its own.
			if d.i+1 < len(d.b) && d.b[d.i] == '\\' && d.b[d.i+1] == 'u' {
				if r2, ok := hex4(d.b[d.i+2:]); ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						d.arena.WriteRune(dec)
						d.i += 6
						return true
					}
				}
			}
			r = utf8.RuneError
		}
		d.arena.WriteRune(r)
		return true
	default:
		return false
	}
	d.i += 2
	return true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// int reads an integer literal that fits an int64.
func (d *cursor) int() (int64, bool) {
	start := d.i
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	digits := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	if d.i == digits || d.b[digits] == '0' && d.i-digits > 1 { // JSON has no leading zeros
		return 0, false
	}
	if d.i < len(d.b) && (d.b[d.i] == '.' || d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	return n, err == nil
}

func (d *cursor) intPtr() (*int64, bool) {
	n, ok := d.int()
	return &n, ok
}

func (d *cursor) bool() (bool, bool) {
	switch {
	case d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "true":
		d.i += 4
		return true, true
	case d.i+5 <= len(d.b) && string(d.b[d.i:d.i+5]) == "false":
		d.i += 5
		return false, true
	}
	return false, false
}

// time reads a time as time.Time's UnmarshalJSON does, from a string without
// escapes.
func (d *cursor) time() (time.Time, bool) {
	var t time.Time
	if !d.byte('"') {
		return t, false
	}
	start := d.i - 1
	for d.i < len(d.b) && d.b[d.i] != '"' {
		if d.b[d.i] == '\\' {
			return t, false
		}
		d.i++
	}
	if !d.byte('"') {
		return t, false
	}
	return t, t.UnmarshalJSON(d.b[start:d.i]) == nil
}

func (d *cursor) check(c *flapjack.Check) bool {
	return d.object(func(key []byte) (bit uint32, ok bool) {
		var s string
		switch string(key) {
		case "id":
			c.ID, ok = d.str()
			return 1 << 0, ok
		case "name":
			c.Name, ok = d.str()
			return 1 << 1, ok
		case "enabled":
			c.Enabled, ok = d.bool()
			return 1 << 2, ok
		case "tags":
			tags := make([]string, 0, 4)
			_, ok = d.array(func() bool {
				t, ok := d.str()
				tags = append(tags, t)
				return ok
			})
			c.Tags = tags
			return 1 << 3, ok
		case "initial_failure_delay":
			c.InitialFailureDelay, ok = d.intPtr()
			return 1 << 4, ok
		case "repeat_failure_delay":
			c.RepeatFailureDelay, ok = d.intPtr()
			return 1 << 5, ok
		case "initial_recovery_delay":
			c.InitialRecoveryDelay, ok = d.intPtr()
			return 1 << 6, ok
		case "ack_hash":
			c.AckHash, ok = d.str()
			return 1 << 7, ok
		case "notification_count":
			c.NotificationCount, ok = d.int()
			return 1 << 8, ok
		case "condition":
			s, ok = d.str()
			c.Condition = flapjack.Condition(s)
			return 1 << 9, ok
		case "failing":
			c.Failing, ok = d.bool()
			return 1 << 10, ok
		case "alertable":
			c.Alertable, ok = d.bool()
			return 1 << 11, ok
		case "current_state":
			c.CurrentState = new(flapjack.State)
			return 1 << 12, d.state(c.CurrentState)
		case "latest_notifications":
			states := make([]flapjack.State, 0, 4)
			_, ok = d.array(func() bool {
				states = append(states, flapjack.State{})
				return d.state(&states[len(states)-1])
			})
			c.LatestNotifications = slices.Clip(states)
			return 1 << 13, ok
		case "most_severe":
			s, ok = d.str()
			c.MostSevere = flapjack.Condition(s)
			return 1 << 14, ok
		case "scheduled_maintenances":
			c.ScheduledMaintenances, ok = d.maintenances()
			return 1 << 15, ok
		case "unscheduled_maintenances":
			c.UnscheduledMaintenances, ok = d.maintenances()
			return 1 << 16, ok
		}
		return 0, false
	})
}

func (d *cursor) maintenances() ([]flapjack.Maintenance, bool) {
	var ms []flapjack.Maintenance
	_, ok := d.array(func() bool {
		var m flapjack.Maintenance
		ok := d.object(func(key []byte) (bit uint32, ok bool) {
			switch string(key) {
			case "id":
				m.ID, ok = d.str()
				return 1 << 0, ok
			case "start_time":
				m.Start, ok = d.time()
				return 1 << 1, ok
			case "end_time":
				m.End, ok = d.time()
				return 1 << 2, ok
			case "summary":
				m.Summary, ok = d.str()
				return 1 << 3, ok
			}
			return 0, false
		})
		ms = append(ms, m)
		return ok
	})
	if ms == nil {
		ms = []flapjack.Maintenance{} // empty, not nil, as with encoding/json
	}
	return ms, ok
}

func (d *cursor) state(s *flapjack.State) bool {
	return d.object(func(key []byte) (bit uint32, ok bool) {
		var v string
		switch string(key) {
		case "created_at":
			s.CreatedAt, ok = d.time()
			return 1 << 0, ok
		case "updated_at":
			s.UpdatedAt, ok = d.time()
			return 1 << 1, ok
		case "condition":
			v, ok = d.str()
			s.Condition = flapjack.Condition(v)
			return 1 << 2, ok
		case "action":
			v, ok = d.str()
			s.Action = flapjack.Action(v)
			return 1 << 3, ok
		case "summary":
			s.Summary, ok = d.str()
			return 1 << 4, ok
		case "details":
			s.Details, ok = d.str()
			return 1 << 5, ok
		case "perfdata":
			pd := make([]flapjack.PerfDatum, 0, 2)
			_, ok = d.array(func() bool {
				var p flapjack.PerfDatum
				ok := d.object(func(key []byte) (bit uint32, ok bool) {
					switch string(key) {
					case "key":
						p.Key, ok = d.str()
						return 1 << 0, ok
					case "value":
						p.Value, ok = d.str()
						return 1 << 1, ok
					}
					return 0, false
				})
				pd = append(pd, p)
				return ok
			})
			s.Perfdata = pd
			return 1 << 6, ok
		}
		return 0, false
	})
}
