package receiver_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/x/flapjack/receiver"
)

// readStream reads every value of a stream, and the error that ended it (nil
// for a clean end).
func readStream(r io.Reader) ([]string, error) {
	s := receiver.NewJSONStream(r)
	var out []string
	for {
		v, err := s.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			if _, again := s.Next(); again != err {
				return out, errors.New("Next after an error returned another error")
			}
			return out, err
		}
		out = append(out, string(v))
	}
}

func TestJSONStream(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []string
		wantErr string // part of the error; "" for a clean end
	}{
		{"empty", "", nil, ""},
		{"white space only", " \n\t\r\n", nil, ""},
		{"one object", `{"check":"a","state":"ok"}`, []string{`{"check":"a","state":"ok"}`}, ""},
		{"objects on lines", "{\"a\":1}\n{\"b\":2}\n", []string{`{"a":1}`, `{"b":2}`}, ""},
		{"objects back to back", `{"a":1}{"b":2}`, []string{`{"a":1}`, `{"b":2}`}, ""},
		{"an object over several lines", "{\n  \"a\": 1,\n  \"b\": [1,\n 2]\n}\n  {\"c\":3}", []string{"{\n  \"a\": 1,\n  \"b\": [1,\n 2]\n}", `{"c":3}`}, ""},
		{"values that are not objects", `[1,2] "x" 3 null`, []string{`[1,2]`, `"x"`, `3`, `null`}, ""},
		{"braces in strings", `{"a":"}{"} {"b":"\"}"}`, []string{`{"a":"}{"}`, `{"b":"\"}"}`}, ""},
		{"a truncated object followed by another", `{"entity":"a"` + "\n" + `{"entity":"b"}`, nil, `invalid JSON after 15 bytes: invalid character '{' after object key:value pair`},
		{"a value cut short at the end", `{"a":1} {"b":`, []string{`{"a":1}`}, "invalid JSON after 13 bytes: unexpected end of input inside a value"},
		{"garbage between objects", `{"a":1} x {"b":2}`, []string{`{"a":1}`}, "invalid character 'x' looking for beginning of value"},
		{"a stray closing brace", `{"a":1}}`, []string{`{"a":1}`}, "invalid character '}' looking for beginning of value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, r := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tc.in)},
				{"byte by byte", iotest.OneByteReader(strings.NewReader(tc.in))},
				{"in halves", iotest.HalfReader(strings.NewReader(tc.in))},
			} {
				got, err := readStream(r.r)
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s: values %q, want %q", r.name, got, tc.want)
				}
				switch {
				case tc.wantErr == "" && err != nil:
					t.Errorf("%s: error %v", r.name, err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
					t.Errorf("%s: error %v, want one saying %q", r.name, err, tc.wantErr)
				case tc.wantErr != "":
					var se *receiver.JSONSyntaxError
					if !errors.As(err, &se) {
						t.Errorf("%s: error %T is not a *JSONSyntaxError", r.name, err)
					}
				}
			}
		})
	}
}

func TestJSONStreamReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	got, err := readStream(io.MultiReader(strings.NewReader(`{"a":1} `), iotest.ErrReader(boom)))
	if !reflect.DeepEqual(got, []string{`{"a":1}`}) || !errors.Is(err, boom) {
		t.Errorf("values %q, error %v; want the first value and the reader's error", got, err)
	}
	var se *receiver.JSONSyntaxError
	if errors.As(err, &se) {
		t.Errorf("a read error is reported as a syntax error: %v", err)
	}
}

func FuzzJSONStream(f *testing.F) {
	for _, s := range []string{
		`{"check":"a","state":"ok"} {"check":"b","state":"critical"}`,
		"{\n\"a\":\n[1,2,{\"b\":null}]}\n\n{}",
		`{"a":"\u00e9\"}"}{`,
		`[1] 2 "three" true`,
		"\xff{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		whole, wholeErr := readStream(bytes.NewReader(in))
		bytewise, byteErr := readStream(iotest.OneByteReader(bytes.NewReader(in)))
		if !reflect.DeepEqual(whole, bytewise) || (wholeErr == nil) != (byteErr == nil) {
			t.Fatalf("read whole: %q, %v; byte by byte: %q, %v", whole, wholeErr, bytewise, byteErr)
		}
		var rest []byte = in
		for _, v := range whole {
			if !json.Valid([]byte(v)) {
				t.Fatalf("value %q is not valid JSON", v)
			}
			// Each value is the next thing in the input after white space.
			rest = bytes.TrimLeft(rest, " \t\r\n")
			if !bytes.HasPrefix(rest, []byte(v)) {
				t.Fatalf("value %q is not what follows in the input %q", v, rest)
			}
			rest = rest[len(v):]
		}
		if wholeErr == nil && len(bytes.TrimLeft(rest, " \t\r\n")) > 0 {
			t.Fatalf("input %q left unread without an error", rest)
		}
		if wholeErr != nil {
			var se *receiver.JSONSyntaxError
			if !errors.As(wholeErr, &se) {
				t.Fatalf("error %T %v is not a syntax error", wholeErr, wholeErr)
			}
		}
	})
}
