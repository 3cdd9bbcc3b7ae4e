// Package decisionwire encodes decision log records compactly, for the stores
// that keep them: lengths and bytes, no field names and no pointers, so a
// store holding many records gives the garbage collector little to trace and
// a Redis script little to move.
package decisionwire

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/x/flapjack"
)

// A record is its Last time as a varint, then its strings, each a uvarint
// length and the bytes, then its alerts and its trace steps, each list
// preceded by its length. Time and Count are the store's to keep.

const zeroTime = math.MinInt64

// EncodeTime is t as Unix nanoseconds, with the zero time kept apart.
func EncodeTime(t time.Time) int64 {
	if t.IsZero() {
		return zeroTime
	}
	return t.UnixNano()
}

// DecodeTime undoes EncodeTime, in UTC.
func DecodeTime(n int64) time.Time {
	if n == zeroTime {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodedSize bounds the length of r's encoding.
func encodedSize(r *flapjack.DecisionRecord) int {
	n := 2*binary.MaxVarintLen64 + len(r.CheckID) + len(r.CheckName) + len(r.Source) + len(r.Event) +
		len(r.Summary) + len(r.Outcome) + len(r.BlockedBy) + len(r.NotificationID) + 8*binary.MaxVarintLen64
	for _, a := range r.Alerts {
		n += len(a.ContactID) + len(a.ContactName) + len(a.MediumID) + len(a.Transport) + len(a.Type) + len(a.Rollup) +
			6*binary.MaxVarintLen64
	}
	n += binary.MaxVarintLen64
	for _, st := range r.Trace.Steps {
		n += len(st.Stage) + len(st.Outcome) + len(st.Detail) + 3*binary.MaxVarintLen64
	}
	return n
}

// Append appends the encoding of r to b.
func Append(b []byte, r *flapjack.DecisionRecord) []byte {
	b = slices.Grow(b, encodedSize(r))
	b = binary.AppendVarint(b, EncodeTime(r.Last))
	for _, s := range []string{r.CheckID, r.CheckName, r.Source, r.Event, r.Summary, r.Outcome, r.BlockedBy, r.NotificationID} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Alerts)))
	for i := range r.Alerts {
		a := &r.Alerts[i]
		for _, s := range []string{a.ContactID, a.ContactName, a.MediumID, a.Transport, string(a.Type), string(a.Rollup)} {
			b = appendString(b, s)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(r.Trace.Steps)))
	for i := range r.Trace.Steps {
		st := &r.Trace.Steps[i]
		b = appendString(b, st.Stage)
		b = appendString(b, st.Outcome)
		b = appendString(b, st.Detail)
	}
	return b
}

// ErrCorrupt is returned by Decode for bytes Append did not write.
var ErrCorrupt = errors.New("corrupt decision record")

// decoder reads what encodeDecision wrote; the first failure sticks.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = ErrCorrupt, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = ErrCorrupt, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.err, d.b = ErrCorrupt, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a number of items, each at least min bytes long.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.b)/min) {
		d.err, d.b = ErrCorrupt, nil
		return 0
	}
	return int(n)
}

// Decode reads a record Append wrote; it fails cleanly on any other bytes.
func Decode(b []byte) (flapjack.DecisionRecord, error) {
	d := decoder{b: b}
	var r flapjack.DecisionRecord
	r.Last = DecodeTime(d.varint())
	for _, p := range []*string{&r.CheckID, &r.CheckName, &r.Source, &r.Event, &r.Summary, &r.Outcome, &r.BlockedBy, &r.NotificationID} {
		*p = d.str()
	}
	if n := d.count(6); n > 0 {
		r.Alerts = make([]flapjack.DecisionAlert, n)
		for i := range r.Alerts {
			a := &r.Alerts[i]
			a.ContactID, a.ContactName, a.MediumID, a.Transport = d.str(), d.str(), d.str(), d.str()
			a.Type, a.Rollup = flapjack.AlertType(d.str()), flapjack.Rollup(d.str())
		}
	}
	if n := d.count(3); n > 0 {
		r.Trace.Steps = make([]flapjack.TraceStep, n)
		for i := range r.Trace.Steps {
			st := &r.Trace.Steps[i]
			st.Stage, st.Outcome, st.Detail = d.str(), d.str(), d.str()
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = ErrCorrupt
	}
	return r, d.err
}
