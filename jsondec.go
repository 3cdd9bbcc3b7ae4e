package flapjack

import (
	"encoding/json"
	"time"

	"github.com/x/flapjack/internal/jsonwire"
)

// UnmarshalJSON implements json.Unmarshaler. The notifier decodes every
// notification the processor makes, so the form MarshalJSON writes — no white
// space, no null, the known keys each once — is read by hand into a zero
// Notification, in one allocation for all its text. Anything else,
// and any receiver that is not zero, is left to encoding/json: the outcome is
// always what encoding/json makes of the same input
// (TestUnmarshalJSONMatchesEncodingJSON holds the two to it).
func (n *Notification) UnmarshalJSON(data []byte) error {
	if n.isZero() {
		d := jsonCursor{jsonwire.Cursor{B: data}}
		var v Notification
		if d.notification(&v) && d.I == len(data) {
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

// jsonCursor reads the form MarshalJSON writes.
type jsonCursor struct{ jsonwire.Cursor }

func (d *jsonCursor) notification(n *Notification) bool {
	return d.Object(func(key []byte) (bit uint32, ok bool) {
		switch string(key) {
		case "id":
			n.ID, ok = d.Str()
			return 1 << 0, ok
		case "check_id":
			n.CheckID, ok = d.Str()
			return 1 << 1, ok
		case "check_name":
			n.CheckName, ok = d.Str()
			return 1 << 2, ok
		case "severity":
			var s string
			s, ok = d.Str()
			n.Severity = Condition(s)
			return 1 << 3, ok
		case "state":
			return 1 << 4, d.state(&n.State)
		case "duration":
			n.Duration, ok = d.Int()
			return 1 << 5, ok
		case "condition_duration":
			var v int64
			v, ok = d.Int()
			n.ConditionDuration = time.Duration(v)
			return 1 << 6, ok
		case "event_hash":
			n.EventHash, ok = d.Str()
			return 1 << 7, ok
		case "event_count":
			n.EventCount, ok = d.Int()
			return 1 << 8, ok
		}
		return 0, false
	})
}

func (d *jsonCursor) state(s *State) bool {
	return d.Object(func(key []byte) (bit uint32, ok bool) {
		var v string
		switch string(key) {
		case "created_at":
			s.CreatedAt, ok = d.Time()
			return 1 << 0, ok
		case "updated_at":
			s.UpdatedAt, ok = d.Time()
			return 1 << 1, ok
		case "condition":
			v, ok = d.Str()
			s.Condition = Condition(v)
			return 1 << 2, ok
		case "action":
			v, ok = d.Str()
			s.Action = Action(v)
			return 1 << 3, ok
		case "summary":
			s.Summary, ok = d.Str()
			return 1 << 4, ok
		case "details":
			s.Details, ok = d.Str()
			return 1 << 5, ok
		case "perfdata":
			return 1 << 6, d.perfdata(&s.Perfdata)
		}
		return 0, false
	})
}

func (d *jsonCursor) perfdata(out *[]PerfDatum) bool {
	pd := make([]PerfDatum, 0, 4) // room for the usual few in one allocation
	ok := d.Array(func() bool {
		var p PerfDatum
		ok := d.Object(func(key []byte) (bit uint32, ok bool) {
			switch string(key) {
			case "key":
				p.Key, ok = d.Str()
				return 1 << 0, ok
			case "value":
				p.Value, ok = d.Str()
				return 1 << 1, ok
			}
			return 0, false
		})
		pd = append(pd, p)
		return ok
	})
	*out = pd
	return ok
}
