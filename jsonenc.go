package flapjack

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The processor encodes a Notification for every event that alerts and the
// notifier an Alert for every medium it alerts, so both types write their JSON by
// hand: encoding/json's reflection was the larger part of the cost of an alert.
// The output is byte for byte what encoding/json writes for the same struct
// (field order and names from the tags, omitempty, HTML-safe string escaping,
// RFC 3339 times, sorted map keys); TestMarshalJSONMatchesEncodingJSON holds them
// to it.

// MarshalJSON implements json.Marshaler.
func (n Notification) MarshalJSON() ([]byte, error) {
	return n.AppendJSON(nil)
}

// AppendJSON appends the JSON encoding of n to b, as MarshalJSON writes it, so
// that a caller can reuse a buffer.
func (n *Notification) AppendJSON(b []byte) ([]byte, error) {
	// Room for the usual notification, so that it takes one allocation at most.
	size := 200 + len(n.ID) + len(n.CheckID) + len(n.CheckName) + len(n.EventHash) + stateJSONSize(&n.State)
	b = slices.Grow(b, size)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, n.ID)
	b = append(b, `,"check_id":`...)
	b = appendJSONString(b, n.CheckID)
	b = append(b, `,"check_name":`...)
	b = appendJSONString(b, n.CheckName)
	b = append(b, `,"severity":`...)
	b = appendJSONString(b, string(n.Severity))
	b = append(b, `,"state":`...)
	b, err := appendStateJSON(b, &n.State)
	if err != nil {
		return nil, err
	}
	b = appendJSONInt(b, `,"duration":`, n.Duration)
	b = appendJSONInt(b, `,"condition_duration":`, int64(n.ConditionDuration))
	b = appendJSONOptString(b, `,"event_hash":`, n.EventHash)
	b = appendJSONInt(b, `,"event_count":`, n.EventCount)
	return append(b, '}'), nil
}

// MarshalJSON implements json.Marshaler.
func (a Alert) MarshalJSON() ([]byte, error) {
	return a.AppendJSON(nil)
}

// AppendJSON appends the JSON encoding of a to b, as MarshalJSON writes it, so
// that a caller encoding many alerts can reuse one buffer.
func (a *Alert) AppendJSON(b []byte) ([]byte, error) {
	// Room for the usual alert, so that it takes one allocation at most.
	size := 420 + len(a.ID) + len(a.Address) + len(a.MediumID) + len(a.ContactID) + len(a.ContactName) +
		len(a.CheckID) + len(a.CheckName) + len(a.Summary) + len(a.Details) + len(a.LastSummary) + len(a.EventHash)
	b = slices.Grow(b, size)
	b = append(b, `{"id":`...)
	b = appendJSONString(b, a.ID)
	b = append(b, `,"transport":`...)
	b = appendJSONString(b, a.Transport)
	b = append(b, `,"address":`...)
	b = appendJSONString(b, a.Address)
	b = append(b, `,"medium_id":`...)
	b = appendJSONString(b, a.MediumID)
	b = append(b, `,"contact_id":`...)
	b = appendJSONString(b, a.ContactID)
	b = appendJSONOptString(b, `,"contact_name":`, a.ContactName)
	b = append(b, `,"check_id":`...)
	b = appendJSONString(b, a.CheckID)
	b = append(b, `,"check_name":`...)
	b = appendJSONString(b, a.CheckName)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, string(a.Type))
	b = appendJSONOptString(b, `,"rollup":`, string(a.Rollup))
	b = appendJSONOptString(b, `,"condition":`, string(a.Condition))
	b = appendJSONOptString(b, `,"action":`, string(a.Action))
	b = appendJSONOptString(b, `,"summary":`, a.Summary)
	b = appendJSONOptString(b, `,"details":`, a.Details)
	b = append(b, `,"time":`...)
	b, err := appendJSONTime(b, a.Time)
	if err != nil {
		return nil, err
	}
	b = appendJSONOptString(b, `,"last_condition":`, string(a.LastCondition))
	b = appendJSONOptString(b, `,"last_action":`, string(a.LastAction))
	b = appendJSONOptString(b, `,"last_summary":`, a.LastSummary)
	b = appendJSONInt(b, `,"condition_duration":`, int64(a.ConditionDuration))
	b = appendJSONInt(b, `,"acknowledgement_duration":`, int64(a.AcknowledgementDuration))
	b = appendJSONOptString(b, `,"event_hash":`, a.EventHash)
	b = appendJSONInt(b, `,"event_count":`, a.EventCount)
	if len(a.RollupStates) > 0 {
		b = append(b, `,"rollup_states":{`...)
		keys := make([]Condition, 0, len(a.RollupStates))
		for k := range a.RollupStates {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, string(k))
			b = append(b, ':')
			b = appendJSONStrings(b, a.RollupStates[k])
		}
		b = append(b, '}')
	}
	b = appendJSONInt(b, `,"rollup_threshold":`, a.RollupThreshold)
	return append(b, '}'), nil
}

// stateJSONSize estimates the length of s in JSON, so that one allocation
// usually holds a notification.
func stateJSONSize(s *State) int {
	n := 150 + len(s.Summary) + len(s.Details)
	for _, p := range s.Perfdata {
		n += 20 + len(p.Key) + len(p.Value)
	}
	return n
}

// appendStateJSON appends s as encoding/json writes a State.
func appendStateJSON(b []byte, s *State) ([]byte, error) {
	b = append(b, `{"created_at":`...)
	b, err := appendJSONTime(b, s.CreatedAt)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = appendJSONTime(b, s.UpdatedAt); err != nil {
		return nil, err
	}
	b = appendJSONOptString(b, `,"condition":`, string(s.Condition))
	b = appendJSONOptString(b, `,"action":`, string(s.Action))
	b = appendJSONOptString(b, `,"summary":`, s.Summary)
	b = appendJSONOptString(b, `,"details":`, s.Details)
	if len(s.Perfdata) > 0 {
		b = append(b, `,"perfdata":[`...)
		for i, p := range s.Perfdata {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = appendJSONString(b, p.Key)
			b = append(b, `,"value":`...)
			b = appendJSONString(b, p.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// appendJSONTime appends t as time.Time's MarshalJSON does, failing as it does
// for a year outside 0-9999.
func appendJSONTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		_, err = t.MarshalJSON() // for MarshalJSON's own message
		return nil, err
	}
	return append(b, '"'), nil
}

// appendJSONInt appends key and n unless n is 0 (omitempty).
func appendJSONInt(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, n, 10)
}

// appendJSONOptString appends key and s unless s is empty (omitempty).
func appendJSONOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return appendJSONString(b, s)
}

// appendJSONStrings appends ss as a JSON array, null when nil.
func appendJSONStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// htmlSafe marks the bytes encoding/json writes as they are in a string: ASCII
// but control characters, '"', '\\' and the HTML-sensitive '<', '>' and '&'.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string exactly as encoding/json.Marshal
// does: <, > and & escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
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
