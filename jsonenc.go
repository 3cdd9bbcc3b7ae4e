package flapjack

import (
	"slices"

	"github.com/x/flapjack/internal/jsonwire"
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
	size := 200 + len(n.ID) + len(n.CheckID) + len(n.CheckName) + len(n.EventHash) + n.State.JSONSize()
	b = slices.Grow(b, size)
	b = append(b, `{"id":`...)
	b = jsonwire.AppendString(b, n.ID)
	b = append(b, `,"check_id":`...)
	b = jsonwire.AppendString(b, n.CheckID)
	b = append(b, `,"check_name":`...)
	b = jsonwire.AppendString(b, n.CheckName)
	b = append(b, `,"severity":`...)
	b = jsonwire.AppendString(b, string(n.Severity))
	b = append(b, `,"state":`...)
	b, err := n.State.AppendJSON(b)
	if err != nil {
		return nil, err
	}
	b = jsonwire.AppendInt(b, `,"duration":`, n.Duration)
	b = jsonwire.AppendInt(b, `,"condition_duration":`, int64(n.ConditionDuration))
	b = jsonwire.AppendOptString(b, `,"event_hash":`, n.EventHash)
	b = jsonwire.AppendInt(b, `,"event_count":`, n.EventCount)
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
	b = jsonwire.AppendString(b, a.ID)
	b = append(b, `,"transport":`...)
	b = jsonwire.AppendString(b, a.Transport)
	b = append(b, `,"address":`...)
	b = jsonwire.AppendString(b, a.Address)
	b = append(b, `,"medium_id":`...)
	b = jsonwire.AppendString(b, a.MediumID)
	b = append(b, `,"contact_id":`...)
	b = jsonwire.AppendString(b, a.ContactID)
	b = jsonwire.AppendOptString(b, `,"contact_name":`, a.ContactName)
	b = append(b, `,"check_id":`...)
	b = jsonwire.AppendString(b, a.CheckID)
	b = append(b, `,"check_name":`...)
	b = jsonwire.AppendString(b, a.CheckName)
	b = append(b, `,"type":`...)
	b = jsonwire.AppendString(b, string(a.Type))
	b = jsonwire.AppendOptString(b, `,"rollup":`, string(a.Rollup))
	b = jsonwire.AppendOptString(b, `,"condition":`, string(a.Condition))
	b = jsonwire.AppendOptString(b, `,"action":`, string(a.Action))
	b = jsonwire.AppendOptString(b, `,"summary":`, a.Summary)
	b = jsonwire.AppendOptString(b, `,"details":`, a.Details)
	b = append(b, `,"time":`...)
	b, err := jsonwire.AppendTime(b, a.Time)
	if err != nil {
		return nil, err
	}
	b = jsonwire.AppendOptString(b, `,"last_condition":`, string(a.LastCondition))
	b = jsonwire.AppendOptString(b, `,"last_action":`, string(a.LastAction))
	b = jsonwire.AppendOptString(b, `,"last_summary":`, a.LastSummary)
	b = jsonwire.AppendInt(b, `,"condition_duration":`, int64(a.ConditionDuration))
	b = jsonwire.AppendInt(b, `,"acknowledgement_duration":`, int64(a.AcknowledgementDuration))
	b = jsonwire.AppendOptString(b, `,"event_hash":`, a.EventHash)
	b = jsonwire.AppendInt(b, `,"event_count":`, a.EventCount)
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
			b = jsonwire.AppendString(b, string(k))
			b = append(b, ':')
			b = jsonwire.AppendStrings(b, a.RollupStates[k])
		}
		b = append(b, '}')
	}
	b = jsonwire.AppendInt(b, `,"rollup_threshold":`, a.RollupThreshold)
	return append(b, '}'), nil
}

// JSONSize estimates the length of s in JSON, so that a buffer made with room
// for it usually holds AppendJSON's output in one allocation.
func (s *State) JSONSize() int {
	n := 150 + len(s.Summary) + len(s.Details)
	for _, p := range s.Perfdata {
		n += 20 + len(p.Key) + len(p.Value)
	}
	return n
}

// AppendJSON appends s to b exactly as encoding/json writes a State, without
// its reflection: the notification's payload and the stores' documents are
// written with it.
func (s *State) AppendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"created_at":`...)
	b, err := jsonwire.AppendTime(b, s.CreatedAt)
	if err != nil {
		return nil, err
	}
	b = append(b, `,"updated_at":`...)
	if b, err = jsonwire.AppendTime(b, s.UpdatedAt); err != nil {
		return nil, err
	}
	b = jsonwire.AppendOptString(b, `,"condition":`, string(s.Condition))
	b = jsonwire.AppendOptString(b, `,"action":`, string(s.Action))
	b = jsonwire.AppendOptString(b, `,"summary":`, s.Summary)
	b = jsonwire.AppendOptString(b, `,"details":`, s.Details)
	if len(s.Perfdata) > 0 {
		b = append(b, `,"perfdata":[`...)
		for i, p := range s.Perfdata {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"key":`...)
			b = jsonwire.AppendString(b, p.Key)
			b = append(b, `,"value":`...)
			b = jsonwire.AppendString(b, p.Value)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil
}
