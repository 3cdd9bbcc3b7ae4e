package flapjack

import (
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// UnmarshalJSON implements json.Unmarshaler. The notifier decodes every
// notification the processor makes, so the form MarshalJSON writes — no white
// space, the known keys each once, strings without escapes — is read by hand
// into a zero Notification, in one allocation for all its text. Anything else,
// and any receiver that is not zero, is left to encoding/json: the outcome is
// always what encoding/json makes of the same input
// (TestUnmarshalJSONMatchesEncodingJSON holds the two to it).
func (n *Notification) UnmarshalJSON(data []byte) error {
	if n.isZero() {
		d := jsonCursor{b: data}
		d.arena.Grow(len(data)) // every string is shorter than data: none moves
		var v Notification
		if d.notification(&v) && d.i == len(data) {
			*n = v
			return nil
		}
	}
	type plain = Notification
	{
		// A type without the method, named Notification so that
		// encoding/json's errors name it as they did before it had one.
		type Notification plain
		return json.Unmarshal(data, (*Notification)(n))
	}
}

func (n *Notification) isZero() bool {
	s := &n.State
	return n.ID == "" && n.CheckID == "" && n.CheckName == "" && n.Severity == "" &&
		n.Duration == 0 && n.ConditionDuration == 0 && n.EventHash == "" && n.EventCount == 0 &&
		s.CreatedAt == time.Time{} && s.UpdatedAt == time.Time{} && s.Condition == "" && s.Action == "" &&
		s.Summary == "" && s.Details == "" && s.Perfdata == nil
}

// jsonCursor reads the strict form MarshalJSON writes. Its methods report false
// for anything outside it, valid JSON or not.
type jsonCursor struct {
	b     []byte
	i     int
	arena strings.Builder
}

func (d *jsonCursor) byte(c byte) bool {
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *jsonCursor) null() bool {
	if d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// raw returns the text of a string literal without escapes or control
// characters and of valid UTF-8, quotes included.
func (d *jsonCursor) raw() ([]byte, bool) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, false
	}
	ascii := true
	for j := d.i + 1; j < len(d.b); j++ {
		c := d.b[j]
		switch {
		case plainByte[c]: // the usual
		case c == '"':
			lit := d.b[d.i : j+1]
			d.i = j + 1
			return lit, ascii || utf8.Valid(lit)
		case c >= utf8.RuneSelf:
			ascii = false
		default: // an escape or a control character
			return nil, false
		}
	}
	return nil, false
}

// str reads a string or null (which leaves a string as it is: empty).
func (d *jsonCursor) str() (string, bool) {
	if d.null() {
		return "", true
	}
	lit, ok := d.raw()
	if !ok {
		return "", false
	}
	if len(lit) == 2 {
		return "", true
	}
	start := d.arena.Len()
	d.arena.Write(lit[1 : len(lit)-1])
	return d.arena.String()[start:], true
}

// int reads an integer literal that fits an int64, or null.
func (d *jsonCursor) int() (int64, bool) {
	if d.null() {
		return 0, true
	}
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
	return parseInt(d.b[start:d.i])
}

// time reads a time as time.Time's UnmarshalJSON does, or null.
func (d *jsonCursor) time() (time.Time, bool) {
	var t time.Time
	if d.null() {
		return t, true
	}
	lit, ok := d.raw()
	if !ok || t.UnmarshalJSON(lit) != nil {
		return t, false
	}
	return t, true
}

// members reads an object, calling member for each key, which must be new (seen
// tracks them by the bit member returns) and whose value member must read.
func (d *jsonCursor) members(member func(key []byte) (bit uint32, ok bool)) bool {
	if !d.byte('{') {
		return false
	}
	if d.byte('}') {
		return true
	}
	var seen uint32
	for {
		key, ok := d.raw()
		if !ok || !d.byte(':') {
			return false
		}
		bit, ok := member(key[1 : len(key)-1])
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

func (d *jsonCursor) notification(n *Notification) bool {
	if d.null() {
		return true
	}
	return d.members(func(key []byte) (bit uint32, ok bool) {
		switch string(key) {
		case "id":
			n.ID, ok = d.str()
			return 1 << 0, ok
		case "check_id":
			n.CheckID, ok = d.str()
			return 1 << 1, ok
		case "check_name":
			n.CheckName, ok = d.str()
			return 1 << 2, ok
		case "severity":
			var s string
			s, ok = d.str()
			n.Severity = Condition(s)
			return 1 << 3, ok
		case "state":
			return 1 << 4, d.state(&n.State)
		case "duration":
			n.Duration, ok = d.int()
			return 1 << 5, ok
		case "condition_duration":
			var v int64
			v, ok = d.int()
			n.ConditionDuration = time.Duration(v)
			return 1 << 6, ok
		case "event_hash":
			n.EventHash, ok = d.str()
			return 1 << 7, ok
		case "event_count":
			n.EventCount, ok = d.int()
			return 1 << 8, ok
		}
		return 0, false
	})
}

func (d *jsonCursor) state(s *State) bool {
	if d.null() {
		return true
	}
	return d.members(func(key []byte) (bit uint32, ok bool) {
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
			s.Condition = Condition(v)
			return 1 << 2, ok
		case "action":
			v, ok = d.str()
			s.Action = Action(v)
			return 1 << 3, ok
		case "summary":
			s.Summary, ok = d.str()
			return 1 << 4, ok
		case "details":
			s.Details, ok = d.str()
			return 1 << 5, ok
		case "perfdata":
			return 1 << 6, d.perfdata(&s.Perfdata)
		}
		return 0, false
	})
}

// perfdata reads an array of {"key":…,"value":…} objects, or null.
func (d *jsonCursor) perfdata(out *[]PerfDatum) bool {
	if d.null() {
		return true
	}
	if !d.byte('[') {
		return false
	}
	if d.byte(']') {
		*out = []PerfDatum{} // empty, not nil, as with encoding/json
		return true
	}
	pd := make([]PerfDatum, 0, 4) // room for the usual few in one allocation
	for {
		var p PerfDatum
		ok := d.members(func(key []byte) (bit uint32, ok bool) {
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
		if !ok {
			return false
		}
		pd = append(pd, p)
		if d.byte(']') {
			*out = pd
			return true
		}
		if !d.byte(',') {
			return false
		}
	}
}
