package redisstore

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/jsonwire"
)

// trickyStrings are the pieces random strings are made of: everything
// encoding/json escapes or treats specially.
var trickyStrings = []string{
	"", "a", "host-00042.example.com:HTTP", "HTTP OK: 200 in 0.012 s", `"`, `\`, "/",
	"<", ">", "&", "<script>&amp;</script>", "\x00", "\x01", "\x1f", "\x7f", "\b", "\f",
	"\n", "\r", "\t", "é", "日本", "\u2028", "\u2029", "\U0001F600", "\xff", "\xc3",
	"\xe2\x80", "\xed\xa0\x80", "\uFFFD", " ", "ok",
}

func randString(r *rand.Rand) string {
	var b []byte
	for range r.IntN(5) {
		b = append(b, trickyStrings[r.IntN(len(trickyStrings))]...)
	}
	return string(b)
}

func randTime(r *rand.Rand) time.Time {
	zones := []*time.Location{
		time.UTC, time.FixedZone("", 0), time.FixedZone("X", 5*3600+30*60),
		time.FixedZone("Y", -8*3600), time.FixedZone("Z", 3600+17), // seconds in the offset: not RFC 3339
	}
	if r.IntN(20) == 0 {
		return time.Time{}
	}
	sec := r.Int64N(400*365*86400) - 100*365*86400 // 1870-2270
	if r.IntN(200) == 0 {
		sec = r.Int64N(1<<40) - 1<<39 // also years outside 0-9999
	}
	nsec := int64(0)
	if r.IntN(2) == 0 {
		nsec = r.Int64N(1e9)
	}
	return time.Unix(sec, nsec).In(zones[r.IntN(len(zones))])
}

func randIntPtr(r *rand.Rand) *int64 {
	if r.IntN(2) == 0 {
		return nil
	}
	v := r.Int64N(1<<r.IntN(63)) - 1<<20
	return &v
}

func randState(r *rand.Rand) flapjack.State {
	s := flapjack.State{
		CreatedAt: randTime(r), UpdatedAt: randTime(r),
		Condition: flapjack.Condition(randString(r)), Action: flapjack.Action(randString(r)),
		Summary: randString(r), Details: randString(r),
	}
	switch r.IntN(3) {
	case 0:
		s.Perfdata = []flapjack.PerfDatum{}
	case 1:
		for range 1 + r.IntN(3) {
			s.Perfdata = append(s.Perfdata, flapjack.PerfDatum{Key: randString(r), Value: randString(r)})
		}
	}
	return s
}

func randMaintenances(r *rand.Rand) []flapjack.Maintenance {
	switch r.IntN(3) {
	case 0:
		return nil
	case 1:
		return []flapjack.Maintenance{}
	}
	var ms []flapjack.Maintenance
	for range 1 + r.IntN(3) {
		ms = append(ms, flapjack.Maintenance{ID: randString(r), Start: randTime(r), End: randTime(r), Summary: randString(r)})
	}
	return ms
}

func randCheck(r *rand.Rand) flapjack.Check {
	c := flapjack.Check{
		ID: randString(r), Name: randString(r), Enabled: r.IntN(2) == 0,
		InitialFailureDelay: randIntPtr(r), RepeatFailureDelay: randIntPtr(r), InitialRecoveryDelay: randIntPtr(r),
		AckHash: randString(r), NotificationCount: r.Int64N(1<<r.IntN(63)) - 5,
		Condition: flapjack.Condition(randString(r)), Failing: r.IntN(2) == 0, Alertable: r.IntN(2) == 0,
		MostSevere:            flapjack.Condition(randString(r)),
		ScheduledMaintenances: randMaintenances(r), UnscheduledMaintenances: randMaintenances(r),
	}
	switch r.IntN(3) {
	case 0:
		c.Tags = []string{}
	case 1:
		for range 1 + r.IntN(3) {
			c.Tags = append(c.Tags, randString(r))
		}
	}
	if r.IntN(3) > 0 {
		st := randState(r)
		c.CurrentState = &st
	}
	switch r.IntN(3) {
	case 0:
		c.LatestNotifications = []flapjack.State{}
	case 1:
		for range 1 + r.IntN(3) {
			c.LatestNotifications = append(c.LatestNotifications, randState(r))
		}
	}
	return c
}

// plainCheck has Check's fields and no methods, for encoding/json's own view.
type plainCheck flapjack.Check

func TestCheckJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 5000 {
		c := randCheck(r)
		want, wantErr := json.Marshal((*plainCheck)(&c))
		got, gotErr := encodeCheck(&c)
		if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("case %d: encodeCheck = %s, %v\nencoding/json: %s, %v", i, got, gotErr, want, wantErr)
		}
		if wantErr != nil {
			continue
		}
		sameDecoding(t, want)
		for _, d := range []cursor{{jsonwire.Cursor{B: want}}, {jsonwire.Cursor{B: want, Src: string(want)}}} {
			var fast flapjack.Check
			if !d.check(&fast) || d.I != len(want) {
				t.Fatalf("case %d: the fast path does not read what encodeCheck writes: %s", i, want)
			}
		}
		if c.CurrentState != nil {
			want, wantErr := json.Marshal(*c.CurrentState)
			got, gotErr := encodeState(c.CurrentState)
			if (gotErr != nil) != (wantErr != nil) || !bytes.Equal(got, want) {
				t.Fatalf("case %d: encodeState = %s, %v\nencoding/json: %s, %v", i, got, gotErr, want, wantErr)
			}
			if wantErr == nil {
				sameStateDecoding(t, want)
			}
		}
	}
}

// sameDecoding checks that decodeCheck makes of data what json.Unmarshal does.
func sameDecoding(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := decodeCheck(data)
	var want flapjack.Check
	wantErr := json.Unmarshal(data, (*plainCheck)(&want))
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decodeCheck(%q): error %v, encoding/json's %v", data, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeCheck(%q):\n got %#v\nwant %#v", data, got, want)
	}
	got, gotErr = decodeCheckString(string(data))
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decodeCheckString(%q): error %v, encoding/json's %v", data, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeCheckString(%q):\n got %#v\nwant %#v", data, got, want)
	}
}

func sameStateDecoding(t *testing.T, data []byte) {
	t.Helper()
	got, gotErr := decodeState(data)
	var want flapjack.State
	wantErr := json.Unmarshal(data, &want)
	if (gotErr != nil) != (wantErr != nil) {
		t.Fatalf("decodeState(%q): error %v, encoding/json's %v", data, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeState(%q):\n got %#v\nwant %#v", data, got, want)
	}
}

// Documents the fast path does not take, which encoding/json decodes.
var otherCheckDocuments = []string{
	`{}`, ` {"id":"a"}`, `{"id" : "a"}`, `{"ID":"a"}`, `{"id":"a","id":"b"}`, `{"id":null}`,
	`{"tags":null}`, `{"tags":[]}`, `{"current_state":null}`, `{"unknown":1,"name":"x"}`,
	`{"notification_count":1.5}`, `{"notification_count":1e3}`, `{"notification_count":99999999999999999999}`,
	`{"notification_count":-0}`, `{"notification_count":01}`, `{"enabled":"true"}`, `{"name":"\ud800"}`,
	`{"name":"\ud83d\ude00\ud800\u0041"}`, `{"name":"a\/b\"c\\d\u00e9"}`, `{"name":"\xff"}`, `{"name":"a` + "\n" + `"}`,
	`{"current_state":{"created_at":"2013-02-01T12:00:00+01:00","perfdata":[]}}`,
	`{"current_state":{"created_at":"2013-02-01T12:00:00\u002b01:00"}}`,
	`{"scheduled_maintenances":[{"id":"m","start_time":"2013-02-01T12:00:00Z","end_time":"bad"}]}`,
	`{"scheduled_maintenances":[]}`, `{"latest_notifications":[{},{"summary":"s"}]}`, `[]`, `null`, ``, `{"id":"a"`,
	`{"id":"a"}x`, `{"initial_failure_delay":-12,"failing":true,"alertable":false}`,
}

func TestDecodeCheckMatchesEncodingJSON(t *testing.T) {
	for _, doc := range otherCheckDocuments {
		sameDecoding(t, []byte(doc))
		sameStateDecoding(t, []byte(doc))
	}
}

func FuzzDecodeCheck(f *testing.F) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 20 {
		c := randCheck(r)
		if doc, err := json.Marshal((*plainCheck)(&c)); err == nil {
			f.Add(doc)
		}
	}
	for _, doc := range otherCheckDocuments {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameDecoding(t, data)
		sameStateDecoding(t, data)
	})
}
