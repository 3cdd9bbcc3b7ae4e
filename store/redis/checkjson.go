package redisstore

import (
	"encoding/json"
	"slices"
	"strconv"
	"unsafe"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/jsonwire"
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
		size += c.CurrentState.JSONSize()
	}
	for i := range c.LatestNotifications {
		size += c.LatestNotifications[i].JSONSize()
	}
	size += 120 * (len(c.ScheduledMaintenances) + len(c.UnscheduledMaintenances))
	return appendCheck(make([]byte, 0, size), c)
}

func appendCheck(b []byte, c *flapjack.Check) ([]byte, error) {
	var err error
	b = append(b, `{"id":`...)
	b = jsonwire.AppendString(b, c.ID)
	b = append(b, `,"name":`...)
	b = jsonwire.AppendString(b, c.Name)
	b = append(b, `,"enabled":`...)
	b = strconv.AppendBool(b, c.Enabled)
	if len(c.Tags) > 0 {
		b = append(b, `,"tags":`...)
		b = jsonwire.AppendStrings(b, c.Tags)
	}
	b = jsonwire.AppendIntPtr(b, `,"initial_failure_delay":`, c.InitialFailureDelay)
	b = jsonwire.AppendIntPtr(b, `,"repeat_failure_delay":`, c.RepeatFailureDelay)
	b = jsonwire.AppendIntPtr(b, `,"initial_recovery_delay":`, c.InitialRecoveryDelay)
	b = append(b, `,"ack_hash":`...)
	b = jsonwire.AppendString(b, c.AckHash)
	b = append(b, `,"notification_count":`...)
	b = strconv.AppendInt(b, c.NotificationCount, 10)
	b = jsonwire.AppendOptString(b, `,"condition":`, string(c.Condition))
	b = append(b, `,"failing":`...)
	b = strconv.AppendBool(b, c.Failing)
	b = append(b, `,"alertable":`...)
	b = strconv.AppendBool(b, c.Alertable)
	if c.CurrentState != nil {
		b = append(b, `,"current_state":`...)
		if b, err = c.CurrentState.AppendJSON(b); err != nil {
			return nil, err
		}
	}
	if len(c.LatestNotifications) > 0 {
		b = append(b, `,"latest_notifications":[`...)
		for i := range c.LatestNotifications {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.LatestNotifications[i].AppendJSON(b); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	b = jsonwire.AppendOptString(b, `,"most_severe":`, string(c.MostSevere))
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
		b = jsonwire.AppendString(b, m.ID)
		b = append(b, `,"start_time":`...)
		if b, err = jsonwire.AppendTime(b, m.Start); err != nil {
			return nil, err
		}
		b = append(b, `,"end_time":`...)
		if b, err = jsonwire.AppendTime(b, m.End); err != nil {
			return nil, err
		}
		b = jsonwire.AppendOptString(b, `,"summary":`, m.Summary)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// encodeState returns s as json.Marshal encodes it.
func encodeState(s *flapjack.State) ([]byte, error) {
	return s.AppendJSON(make([]byte, 0, s.JSONSize()))
}

// decodeCheck decodes a check's document as json.Unmarshal into a zero Check
// does.
func decodeCheck(data []byte) (flapjack.Check, error) {
	return decodeCheckFrom(cursor{jsonwire.Cursor{B: data}}, data)
}

// decodeCheckString is decodeCheck of a document read as a string: the strings
// of the check without escapes are parts of it rather than copies.
func decodeCheckString(doc string) (flapjack.Check, error) {
	data := unsafe.Slice(unsafe.StringData(doc), len(doc)) // only read
	return decodeCheckFrom(cursor{jsonwire.Cursor{B: data, Src: doc}}, data)
}

func decodeCheckFrom(d cursor, data []byte) (flapjack.Check, error) {
	var c flapjack.Check
	if d.check(&c) && d.I == len(data) {
		return c, nil
	}
	c = flapjack.Check{}
	err := json.Unmarshal(data, &c)
	return c, err
}

// decodeState decodes a history entry as json.Unmarshal into a zero State does.
func decodeState(data []byte) (flapjack.State, error) {
	d := cursor{jsonwire.Cursor{B: data}}
	var s flapjack.State
	if d.state(&s) && d.I == len(data) {
		return s, nil
	}
	s = flapjack.State{}
	err := json.Unmarshal(data, &s)
	return s, err
}

// cursor reads the form encodeCheck writes. Its methods report false for
// anything else, valid JSON or not, which is then left to encoding/json.
type cursor struct{ jsonwire.Cursor }

func (d *cursor) check(c *flapjack.Check) bool {
	return d.Object(func(key []byte) (bit uint32, ok bool) {
		var s string
		switch string(key) {
		case "id":
			c.ID, ok = d.Str()
			return 1 << 0, ok
		case "name":
			c.Name, ok = d.Str()
			return 1 << 1, ok
		case "enabled":
			c.Enabled, ok = d.Bool()
			return 1 << 2, ok
		case "tags":
			tags := make([]string, 0, 4)
			ok = d.Array(func() bool {
				t, ok := d.Str()
				tags = append(tags, t)
				return ok
			})
			c.Tags = tags
			return 1 << 3, ok
		case "initial_failure_delay":
			c.InitialFailureDelay, ok = d.IntPtr()
			return 1 << 4, ok
		case "repeat_failure_delay":
			c.RepeatFailureDelay, ok = d.IntPtr()
			return 1 << 5, ok
		case "initial_recovery_delay":
			c.InitialRecoveryDelay, ok = d.IntPtr()
			return 1 << 6, ok
		case "ack_hash":
			c.AckHash, ok = d.Str()
			return 1 << 7, ok
		case "notification_count":
			c.NotificationCount, ok = d.Int()
			return 1 << 8, ok
		case "condition":
			s, ok = d.Str()
			c.Condition = flapjack.Condition(s)
			return 1 << 9, ok
		case "failing":
			c.Failing, ok = d.Bool()
			return 1 << 10, ok
		case "alertable":
			c.Alertable, ok = d.Bool()
			return 1 << 11, ok
		case "current_state":
			c.CurrentState = new(flapjack.State)
			return 1 << 12, d.state(c.CurrentState)
		case "latest_notifications":
			states := make([]flapjack.State, 0, 4)
			ok = d.Array(func() bool {
				states = append(states, flapjack.State{})
				return d.state(&states[len(states)-1])
			})
			c.LatestNotifications = slices.Clip(states)
			return 1 << 13, ok
		case "most_severe":
			s, ok = d.Str()
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
	ok := d.Array(func() bool {
		var m flapjack.Maintenance
		ok := d.Object(func(key []byte) (bit uint32, ok bool) {
			switch string(key) {
			case "id":
				m.ID, ok = d.Str()
				return 1 << 0, ok
			case "start_time":
				m.Start, ok = d.Time()
				return 1 << 1, ok
			case "end_time":
				m.End, ok = d.Time()
				return 1 << 2, ok
			case "summary":
				m.Summary, ok = d.Str()
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
			s.Condition = flapjack.Condition(v)
			return 1 << 2, ok
		case "action":
			v, ok = d.Str()
			s.Action = flapjack.Action(v)
			return 1 << 3, ok
		case "summary":
			s.Summary, ok = d.Str()
			return 1 << 4, ok
		case "details":
			s.Details, ok = d.Str()
			return 1 << 5, ok
		case "perfdata":
			pd := make([]flapjack.PerfDatum, 0, 2)
			ok = d.Array(func() bool {
				var p flapjack.PerfDatum
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
			s.Perfdata = pd
			return 1 << 6, ok
		}
		return 0, false
	})
}
