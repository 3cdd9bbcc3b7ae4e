// Package jsonwire holds the pieces of the hand-written JSON codecs: appending
// values byte for byte as encoding/json writes them, and a Cursor that reads
// the strict form those codecs write, reporting false for anything else so that
// the caller can leave it to encoding/json.
package jsonwire

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendTime appends t as time.Time's MarshalJSON does, failing as it does for
// a year outside 0-9999.
func AppendTime(b []byte, t time.Time) ([]byte, error) {
	b = append(b, '"')
	b, err := t.AppendText(b)
	if err != nil {
		_, err = t.MarshalJSON() // for MarshalJSON's own message
		return nil, err
	}
	return append(b, '"'), nil
}

// AppendInt appends key and n unless n is 0 (omitempty).
func AppendInt(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, n, 10)
}

// AppendIntPtr appends key and *p unless p is nil (omitempty).
func AppendIntPtr(b []byte, key string, p *int64) []byte {
	if p == nil {
		return b
	}
	b = append(b, key...)
	return strconv.AppendInt(b, *p, 10)
}

// AppendOptString appends key and s unless s is empty (omitempty).
func AppendOptString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	b = append(b, key...)
	return AppendString(b, s)
}

// AppendStrings appends ss as a JSON array, null when nil.
func AppendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = AppendString(b, s)
	}
	return append(b, ']')
}

// htmlSafe marks the bytes encoding/json writes as they are in a string: ASCII
// but control characters, '"', '\\' and the HTML-sensitive '<', '>' and '&'.
var htmlSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// AppendString appends s as a JSON string exactly as encoding/json.Marshal
// does: <, > and & escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029
// escaped.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if htmlSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
