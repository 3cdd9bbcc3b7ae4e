package decisionwire

import (
	"reflect"
	"testing"
	"time"

	"github.com/x/flapjack"
)

// FuzzEncoding: a record survives its encoding, and decoding any
// bytes fails cleanly rather than panicking or allocating without bound.
func FuzzEncoding(f *testing.F) {
	f.Add("c1", "web:http", "critical", "down\n", "filter:delays", "failing for 10s", "m1", "Ada", int64(1700000000000000000), []byte{})
	f.Add("", "", "", "", "", "", "", "", int64(0), []byte{0x02, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, id, name, event, summary, stage, detail, medium, contact string, nanos int64, junk []byte) {
		r := flapjack.DecisionRecord{
			CheckID: id, CheckName: name, Source: flapjack.DecidedByNotifier, Event: event, Summary: summary,
			Outcome: flapjack.OutcomeAlerted, Last: time.Unix(0, nanos).UTC(),
			Alerts: []flapjack.DecisionAlert{{ContactID: contact, ContactName: contact, MediumID: medium, Transport: "sms",
				Type: flapjack.TypeProblem, Rollup: flapjack.RollupProblem}},
		}
		r.Trace.Add(stage, "send", detail)
		got, err := Decode(Append(nil, &r))
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, got, r)
		}
		_, _ = Decode(junk)
	})
}
