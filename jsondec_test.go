package flapjack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/internal/jsonwire"
)

// decodeBothWays decodes data into a copy of into with Notification's
// UnmarshalJSON, called by encoding/json and directly, and with encoding/json's
// reflection, and fails unless all three agree on the value and the error.
func decodeBothWays(t *testing.T, data []byte, into Notification) {
	t.Helper()
	want := into
	want.State.Perfdata = append([]PerfDatum(nil), into.State.Perfdata...)
	var wantErr error
	type plain = Notification
	{
		type Notification plain // no method, same name for the errors
		wantErr = json.Unmarshal(data, (*Notification)(&want))
	}
	for _, direct := range []bool{false, true} {
		got := into
		got.State.Perfdata = append([]PerfDatum(nil), into.State.Perfdata...)
		var err error
		if direct {
			err = got.UnmarshalJSON(data)
		} else {
			err = json.Unmarshal(data, &got)
		}
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("decoding %q (direct %t): error %v, encoding/json's %v", data, direct, err, wantErr)
		}
		if direct && !json.Valid(data) {
			continue // encoding/json checks the syntax before it calls UnmarshalJSON
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decoding %q (direct %t):\n got %#v\nwant %#v", data, direct, got, want)
		}
	}
}

func jsonTestNotification(r *rand.Rand) Notification {
	n := Notification{
		ID: jsonTestString(r), CheckID: jsonTestString(r), CheckName: jsonTestString(r),
		Severity: Condition(jsonTestString(r)), State: jsonTestState(r), Duration: jsonTestInt(r),
		ConditionDuration: time.Duration(jsonTestInt(r)), EventHash: jsonTestString(r), EventCount: jsonTestInt(r),
	}
	if r.IntN(3) == 0 {
		n = jsonUsualNotification(r)
	}
	return n
}

// jsonUsualNotification is one as the processor makes them: plain text.
func jsonUsualNotification(r *rand.Rand) Notification {
	return Notification{
		ID: "6ba7b810-9dad-11d1-80b4-00c04fd430c8", CheckID: "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
		CheckName: "host-00042.example.com:HTTP", Severity: Critical, EventHash: "deadbeef", EventCount: jsonTestInt(r),
		State: State{
			CreatedAt: time.Unix(1359720000+r.Int64N(1e6), r.Int64N(1e9)).UTC(), UpdatedAt: time.Unix(1359720000, 0).UTC(),
			Condition: Critical, Summary: "HTTP CRITICAL: connection refused", Details: "port 443 — é",
			Perfdata: []PerfDatum{{Key: "time", Value: "0.001s"}, {Key: "size", Value: "0B"}},
		},
		ConditionDuration: time.Duration(r.Int64N(1e12)),
	}
}

// jsonVariants returns data, the JSON of a notification, and the same changed in
// ways encoding/json accepts or rejects differently from the strict form.
func jsonVariants(r *rand.Rand, data []byte) [][]byte {
	out := [][]byte{data}
	var indented bytes.Buffer
	if json.Indent(&indented, data, "", " ") == nil {
		out = append(out, indented.Bytes())
	}
	edits := []struct{ old, new string }{
		{`"id":`, `"ID":`}, {`"check_name":`, `"Check_Name":`}, {`"state":{`, `"state":null,"state":{`},
		{`{"id":`, `{"extra":[1,{"a":null}],"id":`}, {`"summary":`, `"summary":null,"summary":`},
		{`"event_count":`, `"event_count":1.5,"event_count":`}, {`"created_at":"`, `"created_at":"x`},
		{`"perfdata":[`, `"perfdata":[null,`}, {`"perfdata":[`, `"perfdata":[],"perfdata":[`},
		{`"key":`, `"Key":`}, {`"value":"`, `"value":"\u00e9\n`}, {`"severity":"`, `"severity":"<&>`},
		{`"id":"`, `"id":1,"x":"`}, {`"duration":`, `"duration":01,"y":`}, {`}`, `} `},
		{`"state":`, `"state":[],"z":`}, {`"perfdata":`, `"perfdata":{},"w":`}, {`,`, `,,`},
		{`"updated_at":"`, `"updated_at":null,"u":"`}, {`"event_hash":`, `"event_hash":"\xff","v":`},
		{`"check_id":"`, `"check_id":-0,"c":"`}, {`"created_at":"2`, `"created_at":"+2`},
		{`"condition_duration":`, `"condition_duration":99999999999999999999,"d":`},
	}
	for _, e := range edits {
		if bytes.Contains(data, []byte(e.old)) {
			out = append(out, bytes.Replace(data, []byte(e.old), []byte(e.new), 1))
		}
	}
	if len(data) > 1 { // truncated
		out = append(out, data[:r.IntN(len(data)-1)+1])
	}
	return out
}

func TestUnmarshalJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 150 {
		n := jsonTestNotification(r)
		data, err := n.MarshalJSON()
		if err != nil {
			continue // a year out of range
		}
		for _, v := range jsonVariants(r, data) {
			decodeBothWays(t, v, Notification{})
			decodeBothWays(t, v, Notification{ID: "was here", State: State{Perfdata: make([]PerfDatum, 1, 4)}})
		}
	}
	for _, s := range []string{
		`null`, `{}`, ` {}`, `{"state":null}`, `{"state":{}}`, `{"state":{"perfdata":null}}`,
		`{"state":{"perfdata":[]}}`, `{"state":{"perfdata":[{}]}}`, `[]`, `"x"`, ``, `{`, `{"id":"a"}x`,
		`{"severity":"ok","state":{"condition":"ok","created_at":null}}`,
	} {
		decodeBothWays(t, []byte(s), Notification{})
		decodeBothWays(t, []byte(s), Notification{Severity: Warning})
	}
}

// TestUnmarshalJSONRoundTrip checks that what MarshalJSON writes takes the hand
// decoder's path, in one allocation.
func TestUnmarshalJSONRoundTrip(t *testing.T) {
	n := jsonUsualNotification(rand.New(rand.NewPCG(5, 6)))
	n.State.Summary = strings.Repeat("all good ", 4)
	n.State.Perfdata = nil
	data, err := n.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		var got Notification
		d := jsonCursor{jsonwire.Cursor{B: data}}
		if !d.notification(&got) || d.I != len(data) {
			t.Fatalf("the hand decoder refused %s", data)
		}
	})
	if allocs > 1 {
		t.Errorf("decoding took %v allocations, want 1", allocs)
	}
	var got Notification
	if err := json.Unmarshal(data, &got); err != nil || !reflect.DeepEqual(got, n) {
		t.Errorf("round trip: got %#v, %v; want %#v", got, err, n)
	}
}

func FuzzUnmarshalJSONMatchesEncodingJSON(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 20 {
		n := jsonTestNotification(r)
		if data, err := n.MarshalJSON(); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeBothWays(t, data, Notification{})
		decodeBothWays(t, data, Notification{EventCount: 7, State: State{Perfdata: make([]PerfDatum, 2, 3)}})
	})
}
