package flapjack

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// baseEvent is the base event of the reference's event validation table (E.1).
const baseEvent = `{"state":"critical","entity":"xyz-example.com","check":"ping","time":1454900000,` +
	`"summary":"timeout","details":"couldn't access","perfdata":"/=5504MB;5554;6348;0;7935",` +
	`"acknowledgement_id":"1234","duration":3600}`

// mutate returns the base event with key set to the raw JSON value, or removed
// when raw is "".
func mutate(t testing.TB, key, raw string) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(baseEvent), &m); err != nil {
		t.Fatal(err)
	}
	if raw == "" {
		delete(m, key)
	} else {
		m[key] = json.RawMessage(raw)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func i64(n int64) *int64 { return &n }

func TestParseEventBase(t *testing.T) {
	e, err := ParseEvent([]byte(baseEvent))
	if err != nil {
		t.Fatal(err)
	}
	want := Event{
		Entity: "xyz-example.com", Check: "ping", State: "critical", Time: 1454900000,
		Summary: "timeout", Details: "couldn't access", Perfdata: "/=5504MB;5554;6348;0;7935",
		AcknowledgementID: "1234", Duration: i64(3600),
	}
	if !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
	if got := e.CheckName(); got != "xyz-example.com:ping" {
		t.Errorf("CheckName = %q", got)
	}
	if got := e.AcknowledgementDuration(); got != 3600 {
		t.Errorf("AcknowledgementDuration = %d", got)
	}
}

// TestParseEventTableE1 runs every row of the reference table E.1, plus the
// rules of the event format it does not spell out, as mutations of the base event.
func TestParseEventTableE1(t *testing.T) {
	type row struct {
		key, raw string // raw "" removes the key
		valid    bool
		field    string // the field the problem names when invalid
		msg      string // a part of that problem's message
	}
	var rows []row
	add := func(r ...row) { rows = append(rows, r...) }

	// remove state / remove check; null and "" are missing too.
	for _, k := range []string{"state", "check"} {
		for _, raw := range []string{"", "null", `""`} {
			add(row{k, raw, false, k, "missing"})
		}
		for _, raw := range []string{`{"hello":"there"}`, `5`, `true`, `["ok"]`} {
			add(row{k, raw, false, k, "must be a string"})
		}
	}
	// An object anywhere a scalar is expected.
	for _, k := range []string{"entity", "time", "initial_failure_delay", "repeat_failure_delay",
		"initial_recovery_delay", "summary", "details", "perfdata", "acknowledgement_id", "duration"} {
		add(row{k, `{"hello":"there"}`, false, k, "must be"})
		add(row{k, `null`, true, "", ""})
	}
	// Digit strings.
	for _, k := range []string{"time", "initial_failure_delay", "repeat_failure_delay",
		"initial_recovery_delay", "duration"} {
		add(row{k, `"352"`, true, "", ""}, row{k, `352`, true, "", ""}, row{k, `"0352"`, true, "", ""},
			row{k, `"\u0033\u0035\u0032"`, true, "", ""})
		for _, raw := range []string{`"NaN"`, `"-5"`, `""`, `"1.5"`, `1.5`, `1e3`, `"+5"`, `" 352"`,
			`"352 "`, `"35\n2"`, `"٣"`, `true`, `[]`, `"0x10"`} {
			add(row{k, raw, false, k, "must be an integer or a string of digits"})
		}
		add(row{k, `99999999999999999999`, false, k, "out of range"},
			row{k, `"99999999999999999999"`, false, k, "out of range"},
			row{k, `-9223372036854775809`, false, k, "out of range"})
	}
	add(row{"time", `-9223372036854775808`, true, "", ""}, row{"time", `9223372036854775807`, true, "", ""})
	// Unknown keys, including case variants of known ones.
	add(row{"foo", `1`, false, "foo", "unknown key"}, row{"State", `"ok"`, false, "State", "unknown key"},
		row{"", `1`, false, "", "unknown key"})
	// States.
	for _, s := range []string{"OK", "Critical", "warning", "UNKNOWN", "Acknowledgement",
		"test_notifications", "TEST_NOTIFICATIONS", "test_notifications warning",
		"test_notifications critical", "test_notifications unknown", "Test_Notifications\tWARNING",
		"test_notifications   critical"} {
		add(row{"state", strconv.Quote(s), true, "", ""})
	}
	for _, s := range []string{"test_notifications ok", "down", "test_notificationswarning",
		"test_notifications ", " ok", "ok ", "test_notifications warning now", "test notifications",
		"test_notifications acknowledgement"} {
		add(row{"state", strconv.Quote(s), false, "state", "is not one of"})
	}
	// Tags.
	add(row{"tags", `["a","b"]`, true, "", ""}, row{"tags", `[]`, true, "", ""}, row{"tags", `null`, true, "", ""},
		row{"tags", `"a"`, false, "tags", "array of strings"}, row{"tags", `["a",1]`, false, "tags", "array of strings"},
		row{"tags", `[null]`, false, "tags", "array of strings"}, row{"tags", `{"a":"b"}`, false, "tags", "array of strings"})
	// Acknowledgement ids.
	add(row{"acknowledgement_id", `1234`, true, "", ""}, row{"acknowledgement_id", `123456789012345678901234567890`, true, "", ""},
		row{"acknowledgement_id", `1.5`, false, "acknowledgement_id", "string or an integer"},
		row{"acknowledgement_id", `true`, false, "acknowledgement_id", "string or an integer"})
	// Strings that may be null.
	for _, k := range []string{"entity", "summary", "details", "perfdata"} {
		add(row{k, `5`, false, k, "must be a string or null"}, row{k, `""`, true, "", ""})
	}
	// type is anything.
	for _, raw := range []string{`"service"`, `"action"`, `5`, `null`, `{"a":[1]}`, `[1,2]`} {
		add(row{"type", raw, true, "", ""})
	}
	// Negative delays pass validation.
	for _, k := range []string{"initial_failure_delay", "repeat_failure_delay", "initial_recovery_delay", "duration"} {
		add(row{k, `-5`, true, "", ""})
	}

	for _, r := range rows {
		name := r.key + "=" + r.raw
		if r.raw == "" {
			name = "remove " + r.key
		}
		t.Run(name, func(t *testing.T) {
			data := mutate(t, r.key, r.raw)
			e, err := ParseEvent(data)
			if r.valid {
				if err != nil {
					t.Fatalf("%s: %v", data, err)
				}
				if err := e.Validate(); err != nil {
					t.Fatalf("a parsed event fails Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s: valid, want invalid: %+v", data, e)
			}
			if !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("error %v does not match ErrInvalidEvent", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T %v is not a *ValidationError", err, err)
			}
			if len(ve.Problems) != 1 || ve.Problems[0].Field != r.field || !strings.Contains(ve.Problems[0].Message, r.msg) {
				t.Errorf("problems %q, want one for %q containing %q", ve.Problems, r.field, r.msg)
			}
			if !reflect.DeepEqual(e, Event{}) {
				t.Errorf("invalid event returned as %+v, want the zero Event", e)
			}
		})
	}
}

func TestParseEventValues(t *testing.T) {
	tests := []struct {
		name string
		json string
		want Event
	}{
		{"minimal", `{"state":"ok","check":"c"}`, Event{State: "ok", Check: "c"}},
		{"state lower-cased", `{"state":"CrItIcAl","check":"c"}`, Event{State: "critical", Check: "c"}},
		{"test state normalised", `{"state":"TEST_notifications \t WARNING","check":"c"}`,
			Event{State: "test_notifications warning", Check: "c"}},
		{"plain test state kept plain", `{"state":"Test_Notifications","check":"c"}`,
			Event{State: "test_notifications", Check: "c"}},
		{"entity null", `{"state":"ok","check":"c","entity":null}`, Event{State: "ok", Check: "c"}},
		{"digit strings", `{"state":"ok","check":"c","time":"352","initial_failure_delay":"30",` +
			`"repeat_failure_delay":"0060","initial_recovery_delay":"7","duration":"3600"}`,
			Event{State: "ok", Check: "c", Time: 352, InitialFailureDelay: i64(30), RepeatFailureDelay: i64(60),
				InitialRecoveryDelay: i64(7), Duration: i64(3600)}},
		{"explicit 0 delays are values", `{"state":"ok","check":"c","initial_failure_delay":0,` +
			`"repeat_failure_delay":"0","initial_recovery_delay":0,"duration":0}`,
			Event{State: "ok", Check: "c", InitialFailureDelay: i64(0), RepeatFailureDelay: i64(0),
				InitialRecoveryDelay: i64(0), Duration: i64(0)}},
		{"negative delays are not given", `{"state":"ok","check":"c","initial_failure_delay":-1,` +
			`"repeat_failure_delay":-30,"initial_recovery_delay":-9223372036854775808,"duration":-5}`,
			Event{State: "ok", Check: "c"}},
		{"negative time kept", `{"state":"ok","check":"c","time":-5}`, Event{State: "ok", Check: "c", Time: -5}},
		{"null delays", `{"state":"ok","check":"c","initial_failure_delay":null,"duration":null,"time":null}`,
			Event{State: "ok", Check: "c"}},
		{"trimmed texts", `{"state":"ok","check":"c","summary":"  up \n","details":"\t \r\n","perfdata":" a=1 "}`,
			Event{State: "ok", Check: "c", Summary: "up", Perfdata: "a=1"}},
		{"null texts", `{"state":"ok","check":"c","summary":null,"details":null,"perfdata":null}`,
			Event{State: "ok", Check: "c"}},
		{"integer acknowledgement id", `{"state":"acknowledgement","check":"c","acknowledgement_id":1234}`,
			Event{State: "acknowledgement", Check: "c", AcknowledgementID: "1234"}},
		{"negative acknowledgement id", `{"state":"acknowledgement","check":"c","acknowledgement_id":-7}`,
			Event{State: "acknowledgement", Check: "c", AcknowledgementID: "-7"}},
		{"tags", `{"state":"ok","check":"c","tags":[ "a" , "b\u0021" ]}`,
			Event{State: "ok", Check: "c", Tags: []string{"a", "b!"}}},
		{"empty tags are none", `{"state":"ok","check":"c","tags":[]}`, Event{State: "ok", Check: "c"}},
		{"escapes", `{"state":"ok","check":"c\"d","summary":"a\nb \u00e9 \ud83d\ude00"}`,
			Event{State: "ok", Check: `c"d`, Summary: "a\nb é 😀"}},
		{"escaped keys", `{"st\u0061te":"ok","\u0063heck":"c"}`, Event{State: "ok", Check: "c"}},
		{"invalid UTF-8 replaced", "{\"state\":\"ok\",\"check\":\"c\xff\"}", Event{State: "ok", Check: "c\uFFFD"}},
		{"last duplicate counts", `{"state":"down","check":"c","state":"ok"}`, Event{State: "ok", Check: "c"}},
		{"white space around", " \n\t{ \"state\" : \"ok\" , \"check\" : \"c\" } \r\n", Event{State: "ok", Check: "c"}},
		{"v2 example ack", `{"check":"web-01.example.com:HTTP","state":"acknowledgement","summary":"on it","duration":3600}`,
			Event{State: "acknowledgement", Check: "web-01.example.com:HTTP", Summary: "on it", Duration: i64(3600)}},
		{"v2 example test", `{"check":"web-01.example.com:HTTP","state":"test_notifications warning","summary":"testing"}`,
			Event{State: "test_notifications warning", Check: "web-01.example.com:HTTP", Summary: "testing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseEvent([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, tt.want) {
				t.Errorf("got  %+v\nwant %+v", e, tt.want)
			}
		})
	}
}

func TestParseEventTestCondition(t *testing.T) {
	for state, want := range map[string]Condition{
		"test_notifications":         Critical,
		"test_notifications unknown": Unknown,
		"TEST_NOTIFICATIONS WARNING": Warning,
	} {
		e, err := ParseEvent([]byte(`{"check":"c","state":` + strconv.Quote(state) + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if e.Action() != TestNotifications || e.TestCondition() != want {
			t.Errorf("%q: action %q test condition %q, want test_notifications %q", state, e.Action(), e.TestCondition(), want)
		}
	}
}

func TestParseEventNotAnObject(t *testing.T) {
	for body, kind := range map[string]string{
		`[1,2]`: "array", ` "x" `: "string", `1`: "number", `-1.5e3`: "number",
		`true`: "boolean", `false`: "boolean", `null`: "null", `[]`: "array",
	} {
		_, err := ParseEvent([]byte(body))
		if !errors.Is(err, ErrInvalidEvent) {
			t.Fatalf("%s: error %v does not match ErrInvalidEvent", body, err)
		}
		if want := "event must be a JSON object, got " + kind; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %q, want it to contain %q", body, err, want)
		}
	}
}

func TestParseEventMalformed(t *testing.T) {
	for _, body := range []string{
		``, ` `, `not json`, `{"state":"ok","check":"c"`, `{"state":"ok","check":"c"}}`,
		`{"state":"ok","check":"c"} {}`, `{"state":"ok",}`, `{'state':'ok'}`, `{"a":01}`,
		`{"a":"` + "\x01" + `"}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":tru}`, `{"a":-}`, `{"a":1.}`,
		`{"a":1e}`, `[1,]`, "\xef\xbb\xbf{}", `{"a" 1}`, `{1:2}`, `{"a":[}`, `{"a":NaN}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	} {
		_, err := ParseEvent([]byte(body))
		if !errors.Is(err, ErrInvalidEvent) {
			t.Fatalf("%q: error %v does not match ErrInvalidEvent", body, err)
		}
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error %v does not wrap a *json.SyntaxError", body, err)
		}
		if !strings.Contains(err.Error(), "parse error") {
			t.Errorf("%q: error %q does not say parse error", body, err)
		}
		if len(err.Error()) > 200 {
			t.Errorf("%q: error too long: %q", body, err)
		}
	}
}

// TestScannerAgreesWithEncodingJSON checks that the hand-written scanner accepts
// exactly the documents encoding/json accepts; the fuzz test does so at large.
func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{}`, `{"a":{}}`, `{"a":[[],{},"",0,-0,1.5e-3,1E+2,true,false,null]}`, `{"a":"\/\b\f\n\r\t\"\\\u00FF"}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":+1}`, `{"a":"` + "\x7f\xff" + `"}`, `{"a":"\ud800"}`,
		strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
		`{"a":` + strings.Repeat("[", 9999) + strings.Repeat("]", 9999) + `}`,
		`{"a":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`,
	} {
		s := scanner{b: []byte(doc)}
		s.ws()
		ok := s.value()
		s.ws()
		ok = ok && s.i == len(doc)
		if want := json.Valid([]byte(doc)); ok != want {
			t.Errorf("%.40q: scanner says valid=%v, encoding/json %v", doc, ok, want)
		}
	}
}

func TestParseEventProblemsCollected(t *testing.T) {
	tests := []struct {
		name, json string
		want       []Problem
		msg        string
	}{
		{"missing and unknown first", `{"check":5,"foo":1,"time":"NaN"}`,
			[]Problem{{"state", "missing"}, {"foo", "unknown key"}},
			"invalid event: state: missing; foo: unknown key"},
		{"both missing", `{}`, []Problem{{"state", "missing"}, {"check", "missing"}},
			"invalid event: state: missing; check: missing"},
		{"every type problem", `{"state":"down","check":"c","time":"NaN","summary":5,"tags":"a","duration":1.5}`,
			[]Problem{
				{"time", "must be an integer or a string of digits"},
				{"summary", "must be a string or null"},
				{"duration", "must be an integer or a string of digits"},
				{"tags", "must be an array of strings or null"},
				{"state", `"down" is not one of ok, warning, critical, unknown, acknowledgement, test_notifications [critical|warning|unknown]`},
			}, ""},
		{"wrong state and check types", `{"state":1,"check":true}`,
			[]Problem{{"state", "must be a string"}, {"check", "must be a string"}},
			"invalid event: state: must be a string; check: must be a string"},
		{"odd key quoted", `{"state":"ok","check":"c","a b\n":1}`,
			[]Problem{{"a b\n", "unknown key"}}, `invalid event: "a b\n": unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEvent([]byte(tt.json))
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			if !reflect.DeepEqual(ve.Problems, tt.want) {
				t.Errorf("problems\n %q\nwant\n %q", ve.Problems, tt.want)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", err, tt.msg)
			}
		})
	}
}

func TestValidationErrorEchoBounded(t *testing.T) {
	long := strings.Repeat("x", 5000)
	var b strings.Builder
	b.WriteString(`{"state":"ok","check":"c"`)
	for i := range 200 {
		b.WriteString(`,"` + long + strconv.Itoa(i) + `":1`)
	}
	b.WriteString(`,"state":` + strconv.Quote(long) + `}`)
	_, err := ParseEvent([]byte(b.String()))
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 200 {
		t.Fatalf("want 200 problems, got %v", err)
	}
	msg := err.Error()
	if n := strings.Count(msg, "x"); n > 110 {
		t.Errorf("error echoes %d bytes of input: %q", n, msg)
	}
	if !strings.Contains(msg, "more") {
		t.Errorf("error %q does not say problems were left out", msg)
	}
	for _, p := range ve.Problems {
		if len(p.Field) > 40 {
			t.Fatalf("field %q not shortened", p.Field)
		}
	}

	_, err = ParseEvent([]byte(`{"state":` + strconv.Quote(long) + `,"check":"c"}`))
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("long state echoed: %v", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name     string
		in, want Event
		problems []Problem
	}{
		{"normalises", Event{Check: "c", State: "Test_Notifications  Unknown", Summary: " s ", Details: "\n",
			Perfdata: " a=1 ", InitialFailureDelay: i64(-1), RepeatFailureDelay: i64(0), InitialRecoveryDelay: i64(5),
			Duration: i64(-3600), Tags: []string{}},
			Event{Check: "c", State: "test_notifications unknown", Summary: "s", Perfdata: "a=1",
				RepeatFailureDelay: i64(0), InitialRecoveryDelay: i64(5)}, nil},
		{"empty", Event{}, Event{}, []Problem{{"state", "missing"}, {"check", "missing"}}},
		{"unknown state", Event{Check: "c", State: "down"}, Event{Check: "c", State: "down"},
			[]Problem{{"state", `"down" is not one of ok, warning, critical, unknown, acknowledgement, test_notifications [critical|warning|unknown]`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.in
			err := e.Validate()
			if tt.problems == nil {
				if err != nil {
					t.Fatal(err)
				}
			} else {
				var ve *ValidationError
				if !errors.As(err, &ve) || !errors.Is(err, ErrInvalidEvent) {
					t.Fatalf("error %v, want a *ValidationError", err)
				}
				if !reflect.DeepEqual(ve.Problems, tt.problems) {
					t.Errorf("problems %q, want %q", ve.Problems, tt.problems)
				}
			}
			if !reflect.DeepEqual(e, tt.want) {
				t.Errorf("got  %+v\nwant %+v", e, tt.want)
			}
		})
	}
	// Clearing a negative delay must not write through the caller's pointer.
	d := int64(-5)
	e := Event{Check: "c", State: "ok", InitialFailureDelay: &d}
	if err := e.Validate(); err != nil || e.InitialFailureDelay != nil || d != -5 {
		t.Errorf("err %v, delay %v, caller's value %d", err, e.InitialFailureDelay, d)
	}
}

func TestParsePerfdata(t *testing.T) {
	tests := []struct {
		in   string
		want []PerfDatum
	}{
		{"", nil},
		{" \t\n", nil},
		{"time=0.48s;;;0 size=909B;;;0", []PerfDatum{{"time", "0.48s"}, {"size", "909B"}}},
		{"/=5504MB;5554;6348;0;7935", []PerfDatum{{"/", "5504MB"}}},
		{"  rta=1ms  \n pl=0%;20;60 ", []PerfDatum{{"rta", "1ms"}, {"pl", "0%"}}},
		{"novalue", []PerfDatum{{"novalue", ""}}},
		{"a;b", []PerfDatum{{"a;b", ""}}},
		{"a=", []PerfDatum{{"a", ""}}},
		{"=5", []PerfDatum{{"", "5"}}},
		{"a=b=c;d", []PerfDatum{{"a", "b=c"}}},
		{"a=;1;2", []PerfDatum{{"a", ""}}},
	}
	for _, tt := range tests {
		if got := ParsePerfdata(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePerfdata(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEventJSONRoundTrip(t *testing.T) {
	events := []Event{
		{State: "ok", Check: "c"},
		{State: "critical", Entity: "xyz-example.com", Check: "ping", Time: 1454900000, Summary: "timeout",
			Details: "line1\nline2\t\"quoted\" \\ \x01 <&> \u2028 end", Perfdata: "/=5504MB;5554;6348;0;7935",
			InitialFailureDelay: i64(0), RepeatFailureDelay: i64(60), InitialRecoveryDelay: i64(1),
			AcknowledgementID: "abcd1234", Duration: i64(0), Tags: []string{"a", "b c"}},
		{State: "test_notifications warning", Check: "c", Time: -1},
		{State: "acknowledgement", Check: "é😀", Duration: i64(3600)},
	}
	for _, want := range events {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(b) {
			t.Fatalf("invalid JSON %s", b)
		}
		var got Event
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s\n got  %+v\n want %+v", b, got, want)
		}
		// The hand-written encoder must agree with encoding/json on every string.
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m["details"] != nilIfEmpty(want.Details) || m["check"] != want.Check {
			t.Errorf("%s: strings decode as %q, %q", b, m["details"], m["check"])
		}
	}

	// Empty optional keys are left out.
	b, _ := Event{State: "ok", Check: "c"}.MarshalJSON()
	if string(b) != `{"state":"ok","check":"c"}` {
		t.Errorf("minimal event marshals as %s", b)
	}
	// Invalid UTF-8 is written as U+FFFD, as encoding/json does.
	b, _ = Event{State: "ok", Check: "a\xffb"}.MarshalJSON()
	if want, _ := json.Marshal("a\xffb"); !strings.Contains(string(b), string(want)) {
		t.Errorf("got %s, want it to contain %s", b, want)
	}
	// An event nested in another value, and the errors UnmarshalJSON passes on.
	var wrapper struct{ Event Event }
	if err := json.Unmarshal([]byte(`{"Event":{"state":"OK","check":"c"}}`), &wrapper); err != nil || wrapper.Event.State != "ok" {
		t.Errorf("nested: %v %+v", err, wrapper.Event)
	}
	for _, body := range []string{`{"Event":{"state":"down","check":"c"}}`, `{"Event":null}`, `{"Event":[1]}`} {
		if err := json.Unmarshal([]byte(body), &wrapper); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: error %v, want ErrInvalidEvent", body, err)
		}
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// fuzzSeeds are the table's documents and some awkward ones.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		[]byte(baseEvent), []byte(`[1,2]`), []byte(`not json`), []byte(`{}`), []byte(`null`),
		[]byte(`{"state":"test_notifications warning","check":"c","tags":["a"],"type":{"x":[1]}}`),
		[]byte(`{"state":"OK","check":"c","initial_failure_delay":-5,"repeat_failure_delay":"352","duration":0}`),
		[]byte(`{"st\u0061te":"ok","check":"\ud800x","summary":" \u2028 ","acknowledgement_id":12}`),
		[]byte("{\"state\":\"ok\",\"check\":\"\xff\"}"),
	}
	for _, m := range []struct{ k, v string }{
		{"state", ""}, {"check", ""}, {"state", `{"hello":"there"}`}, {"time", `"352"`}, {"time", `"NaN"`},
		{"foo", "1"}, {"state", `"Critical"`}, {"state", `"test_notifications ok"`}, {"tags", `"a"`},
		{"duration", `1e3`}, {"acknowledgement_id", `99999999999999999999`},
	} {
		seeds = append(seeds, mutate(f, m.k, m.v))
	}
	return seeds
}

func FuzzParseEvent(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := ParseEvent(data)
		var se *json.SyntaxError
		if isSyntax := errors.As(err, &se); isSyntax == json.Valid(data) {
			t.Fatalf("%q: json.Valid %v, but ParseEvent error %v", data, json.Valid(data), err)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("%q: error %v does not match ErrInvalidEvent", data, err)
			}
			_ = err.Error()
			return
		}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		e2, err := ParseEvent(b)
		if err != nil {
			t.Fatalf("%q re-marshalled as %s: %v", data, b, err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("%q round trip via %s:\n %+v\n %+v", data, b, e, e2)
		}
		if err := e2.Validate(); err != nil || !reflect.DeepEqual(e, e2) {
			t.Fatalf("a parsed event changes under Validate: %v %+v", err, e2)
		}
	})
}

func BenchmarkParseEvent(b *testing.B) {
	data := []byte(baseEvent)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseEvent(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseEventInvalid(b *testing.B) {
	data := []byte(`{"state":"down","check":"c","time":"NaN","summary":5}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseEvent(data); err == nil {
			b.Fatal("valid")
		}
	}
}

func BenchmarkMarshalEvent(b *testing.B) {
	e, err := ParseEvent([]byte(baseEvent))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.MarshalJSON(); err != nil {
			b.Fatal(err)
		}
	}
}
