package flapjack

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// Types with the same fields and no methods: encoding/json encodes them by
// reflection, which is what the hand-written MarshalJSON methods must match.
type (
	reflectNotification Notification
	reflectAlert        Alert
)

// jsonTrickyStrings are the pieces random strings are made of: everything
// encoding/json escapes or treats specially.
var jsonTrickyStrings = []string{
	"", "a", "host-00042.example.com:HTTP", "HTTP OK: 200 in 0.012 s", `"`, `\`, "/",
	"<", ">", "&", "<script>&amp;</script>", "\x00", "\x01", "\x1f", "\x7f", "\b", "\f",
	"\n", "\r", "\t", "é", "日本", "\u2028", "\u2029", "\U0001F600", "\xff", "\xc3",
	"\xe2\x80", "\xed\xa0\x80", "\uFFFD", " ", "ok",
}

func jsonTestString(r *rand.Rand) string {
	var b []byte
	for range r.IntN(5) {
		b = append(b, jsonTrickyStrings[r.IntN(len(jsonTrickyStrings))]...)
	}
	return string(b)
}

func jsonTestTime(r *rand.Rand) time.Time {
	zones := []*time.Location{
		time.UTC, time.FixedZone("", 0), time.FixedZone("X", 5*3600+30*60),
		time.FixedZone("Y", -8*3600), time.FixedZone("Z", 3600+17), // seconds in the offset: not RFC 3339
	}
	if r.IntN(20) == 0 {
		return time.Time{}
	}
	sec := r.Int64N(400*365*86400) - 100*365*86400 // 1870-2270
	if r.IntN(50) == 0 {
		sec = r.Int64N(1<<40) - 1<<39 // also years outside 0-9999
	}
	nsec := int64(0)
	if r.IntN(2) == 0 {
		nsec = r.Int64N(1e9)
	}
	return time.Unix(sec, nsec).In(zones[r.IntN(len(zones))])
}

func jsonTestInt(r *rand.Rand) int64 {
	switch r.IntN(4) {
	case 0:
		return 0
	case 1:
		return -r.Int64()
	}
	return r.Int64N(1 << r.IntN(63))
}

func jsonTestState(r *rand.Rand) State {
	s := State{
		CreatedAt: jsonTestTime(r), UpdatedAt: jsonTestTime(r),
		Condition: Condition(jsonTestString(r)), Action: Action(jsonTestString(r)),
		Summary: jsonTestString(r), Details: jsonTestString(r),
	}
	switch r.IntN(3) {
	case 0:
		s.Perfdata = []PerfDatum{}
	case 1:
		for range 1 + r.IntN(3) {
			s.Perfdata = append(s.Perfdata, PerfDatum{Key: jsonTestString(r), Value: jsonTestString(r)})
		}
	}
	return s
}

func sameJSON(t *testing.T, what string, got []byte, gotErr error, want []byte, wantErr error) {
	t.Helper()
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("%s: error %v, encoding/json's %v", what, gotErr, wantErr)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s:\n got %s\nwant %s", what, got, want)
	}
}

func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		n := Notification{
			ID: jsonTestString(r), CheckID: jsonTestString(r), CheckName: jsonTestString(r),
			Severity: Condition(jsonTestString(r)), State: jsonTestState(r), Duration: jsonTestInt(r),
			ConditionDuration: time.Duration(jsonTestInt(r)), EventHash: jsonTestString(r), EventCount: jsonTestInt(r),
		}
		want, wantErr := json.Marshal((*reflectNotification)(&n))
		got, gotErr := n.MarshalJSON()
		sameJSON(t, "Notification.MarshalJSON", got, gotErr, want, wantErr)
		viaJSON, viaErr := json.Marshal(n)
		sameJSON(t, "json.Marshal(Notification)", viaJSON, viaErr, want, wantErr)

		a := Alert{
			ID: jsonTestString(r), Transport: jsonTestString(r), Address: jsonTestString(r),
			MediumID: jsonTestString(r), ContactID: jsonTestString(r), ContactName: jsonTestString(r),
			CheckID: jsonTestString(r), CheckName: jsonTestString(r), Type: AlertType(jsonTestString(r)),
			Rollup: Rollup(jsonTestString(r)), Condition: Condition(jsonTestString(r)), Action: Action(jsonTestString(r)),
			Summary: jsonTestString(r), Details: jsonTestString(r), Time: jsonTestTime(r),
			LastCondition: Condition(jsonTestString(r)), LastAction: Action(jsonTestString(r)), LastSummary: jsonTestString(r),
			ConditionDuration: time.Duration(jsonTestInt(r)), AcknowledgementDuration: time.Duration(jsonTestInt(r)),
			EventHash: jsonTestString(r), EventCount: jsonTestInt(r), RollupThreshold: jsonTestInt(r),
		}
		switch r.IntN(3) {
		case 0:
			a.RollupStates = map[Condition][]string{}
		case 1:
			a.RollupStates = map[Condition][]string{}
			for range 1 + r.IntN(4) {
				var names []string
				switch r.IntN(3) {
				case 0:
					names = []string{}
				case 1:
					for range 1 + r.IntN(3) {
						names = append(names, jsonTestString(r))
					}
				}
				a.RollupStates[Condition(jsonTestString(r))] = names
			}
		}
		want, wantErr = json.Marshal((*reflectAlert)(&a))
		got, gotErr = a.MarshalJSON()
		sameJSON(t, "Alert.MarshalJSON", got, gotErr, want, wantErr)
		viaJSON, viaErr = json.Marshal(&a)
		sameJSON(t, "json.Marshal(*Alert)", viaJSON, viaErr, want, wantErr)
		if t.Failed() {
			t.Fatalf("case %d", i)
		}
	}
}

func FuzzMarshalJSONMatchesEncodingJSON(f *testing.F) {
	for _, s := range jsonTrickyStrings {
		f.Add(s, int64(0), int64(1359720000))
	}
	f.Fuzz(func(t *testing.T, s string, n int64, unix int64) {
		st := State{CreatedAt: time.Unix(unix, n%1e9).UTC(), Summary: s, Perfdata: []PerfDatum{{Key: s, Value: s}}}
		note := Notification{ID: s, CheckName: s, State: st, EventCount: n}
		want, wantErr := json.Marshal((*reflectNotification)(&note))
		got, gotErr := note.MarshalJSON()
		sameJSON(t, "Notification", got, gotErr, want, wantErr)
		a := Alert{Summary: s, Time: st.CreatedAt, EventCount: n, RollupStates: map[Condition][]string{Condition(s): {s}}}
		want, wantErr = json.Marshal((*reflectAlert)(&a))
		got, gotErr = a.MarshalJSON()
		sameJSON(t, "Alert", got, gotErr, want, wantErr)
	})
}

// TestStateAppendJSON: State.AppendJSON writes what encoding/json writes.
func TestStateAppendJSON(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 15, 123456789, time.FixedZone("X", 5*3600+1800))
	for _, s := range []State{
		{},
		{CreatedAt: at, UpdatedAt: at.Add(time.Minute), Condition: Critical, Summary: "down <b>\"x\"</b>\u2028"},
		{CreatedAt: at, UpdatedAt: at, Condition: OK, Action: Acknowledgement, Details: "line\none",
			Perfdata: []PerfDatum{{Key: "time", Value: "0.2s"}, {Key: "ü", Value: ""}}},
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.AppendJSON([]byte("prefix"))
		if err != nil || string(got) != "prefix"+string(want) {
			t.Errorf("AppendJSON = %s, %v\nwant prefix%s", got, err, want)
		}
	}
}
