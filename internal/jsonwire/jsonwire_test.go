package jsonwire

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

var seeds = []string{
	"", "plain", `quote " back \ slash /`, "<a href='x'>&amp;</a>", "\x00\x01\x1f\x7f\b\f\n\r\t",
	"caf\u00e9 \u2028\u2029 \U0001F600", "\xff\xfe bad \xc3", `\u00e9 \ud800`,
}

// FuzzString holds AppendString to json.Marshal, and Str to json.Unmarshal of
// what either accepts.
func FuzzString(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
		want, _ := json.Marshal(s)
		f.Add(string(want))
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
		for _, src := range []string{s, string(want)} {
			for _, d := range []Cursor{{B: []byte(src)}, {B: []byte(src), Src: src}} {
				got, ok := d.Str()
				if !ok || d.I != len(src) {
					continue // left to encoding/json
				}
				var want string
				if err := json.Unmarshal([]byte(src), &want); err != nil || got != want {
					t.Fatalf("Str(%q) = %q; encoding/json %q, %v", src, got, want, err)
				}
			}
		}
	})
}

// FuzzScalars holds Int, Bool and Time to json.Unmarshal of what they accept.
func FuzzScalars(f *testing.F) {
	for _, s := range []string{
		"0", "-0", "01", "12", "-9223372036854775808", "9223372036854775807", "9223372036854775808",
		"99999999999999999999", "1.5", "1e3", "true", "false", `"2013-02-01T12:00:00.5+01:00"`, `"10000-01-01T00:00:00Z"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		d := Cursor{B: b}
		if n, ok := d.Int(); ok && d.I == len(b) {
			var want int64
			if err := json.Unmarshal(b, &want); err != nil || n != want {
				t.Fatalf("Int(%q) = %d; encoding/json %d, %v", s, n, want, err)
			}
		}
		d = Cursor{B: b}
		if v, ok := d.Bool(); ok && d.I == len(b) {
			var want bool
			if err := json.Unmarshal(b, &want); err != nil || v != want {
				t.Fatalf("Bool(%q) = %v; encoding/json %v, %v", s, v, want, err)
			}
		}
		d = Cursor{B: b}
		if tm, ok := d.Time(); ok && d.I == len(b) {
			var want time.Time
			if err := json.Unmarshal(b, &want); err != nil || !tm.Equal(want) || tm.String() != want.String() {
				t.Fatalf("Time(%q) = %v; encoding/json %v, %v", s, tm, want, err)
			}
			if got, err := AppendTime(nil, tm); err == nil {
				if want, _ := json.Marshal(tm); !bytes.Equal(got, want) {
					t.Fatalf("AppendTime(%v) = %s, encoding/json %s", tm, got, want)
				}
			}
		}
	})
}
