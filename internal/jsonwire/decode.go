package jsonwire

import (
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Cursor reads JSON as encoding/json.Marshal writes it: no white space, no
// null, keys without escapes. Its methods report false for anything else,
// valid JSON or not, which the caller then leaves to encoding/json.
type Cursor struct {
	B []byte // the document
	I int    // where in B reading goes on
	// Src, when not empty, is B as a string, which strings without escapes
	// are taken from.
	Src string
	// arena holds the text of every other string, in one allocation.
	arena strings.Builder
}

// Byte reads c.
func (d *Cursor) Byte(c byte) bool {
	if d.I < len(d.B) && d.B[d.I] == c {
		d.I++
		return true
	}
	return false
}

// plain marks the bytes a string may hold that need no attention: ASCII but
// control characters, '"' and '\\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// Key reads `"key":` of a key of plain ASCII.
func (d *Cursor) Key() ([]byte, bool) {
	b, i := d.B, d.I
	if i >= len(b) || b[i] != '"' {
		return nil, false
	}
	start := i + 1
	for i = start; i < len(b) && plain[b[i]]; i++ {
	}
	if i+1 >= len(b) || b[i] != '"' || b[i+1] != ':' {
		return nil, false
	}
	d.I = i + 2
	return b[start:i], true
}

// Object reads an object whose members member reads, each at most once (seen
// tracks them by the bit member returns).
func (d *Cursor) Object(member func(key []byte) (bit uint32, ok bool)) bool {
	if !d.Byte('{') {
		return false
	}
	if d.Byte('}') {
		return true
	}
	var seen uint32
	for {
		key, ok := d.Key()
		if !ok {
			return false
		}
		bit, ok := member(key)
		if !ok || seen&bit != 0 {
			return false
		}
		seen |= bit
		if d.Byte('}') {
			return true
		}
		if !d.Byte(',') {
			return false
		}
	}
}

// Array reads an array whose elements elem reads.
func (d *Cursor) Array(elem func() bool) bool {
	if !d.Byte('[') {
		return false
	}
	if d.Byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.Byte(']') {
			return true
		}
		if !d.Byte(',') {
			return false
		}
	}
}

// Str reads a string, unescaping it as encoding/json does. Invalid UTF-8, which
// encoding/json replaces, is left to it.
func (d *Cursor) Str() (string, bool) {
	if !d.Byte('"') {
		return "", false
	}
	first := d.I
	i := first
	for i < len(d.B) && plain[d.B[i]] { // the usual, kept in a register
		i++
	}
	d.I = i
	start, run := 0, 0 // where the string starts in the arena; what to copy from
	escaped := false
	for d.I < len(d.B) {
		c := d.B[d.I]
		switch {
		case plain[c]:
			d.I++
		case c == '"':
			d.I++
			switch {
			case escaped:
				d.arena.Write(d.B[run : d.I-1])
				return d.arena.String()[start:], true
			case d.Src != "":
				return d.Src[first : d.I-1], true
			case d.I-1 == first:
				return "", true
			}
			d.grow()
			start = d.arena.Len()
			d.arena.Write(d.B[first : d.I-1])
			return d.arena.String()[start:], true
		case c == '\\':
			if !escaped {
				escaped = true
				d.grow()
				start, run = d.arena.Len(), first
			}
			d.arena.Write(d.B[run:d.I])
			if !d.escape() {
				return "", false
			}
			run = d.I
		case c < utf8.RuneSelf: // a control character
			return "", false
		default:
			r, size := utf8.DecodeRune(d.B[d.I:])
			if r == utf8.RuneError && size == 1 {
				return "", false
			}
			d.I += size
		}
	}
	return "", false
}

// grow makes room in the arena for every string of the document, once: their
// text is shorter than the document, so none moves.
func (d *Cursor) grow() {
	if d.arena.Cap() == 0 {
		d.arena.Grow(len(d.B))
	}
}

// escape reads one escape sequence into the arena.
func (d *Cursor) escape() bool {
	if d.I+1 >= len(d.B) {
		return false
	}
	c := d.B[d.I+1]
	switch c {
	case '"', '\\', '/':
		d.arena.WriteByte(c)
	case 'b':
		d.arena.WriteByte('\b')
	case 'f':
		d.arena.WriteByte('\f')
	case 'n':
		d.arena.WriteByte('\n')
	case 'r':
		d.arena.WriteByte('\r')
	case 't':
		d.arena.WriteByte('\t')
	case 'u':
		r, ok := hex4(d.B[d.I+2:])
		if !ok {
			return false
		}
		d.I += 6
		if utf16.IsSurrogate(r) {
			// As encoding/json: a pair makes one rune; anything else is U+FFFD,
			// and what follows is read on its own.
			if d.I+1 < len(d.B) && d.B[d.I] == '\\' && d.B[d.I+1] == 'u' {
				if r2, ok := hex4(d.B[d.I+2:]); ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						d.arena.WriteRune(dec)
						d.I += 6
						return true
					}
				}
			}
			r = utf8.RuneError
		}
		d.arena.WriteRune(r)
		return true
	default:
		return false
	}
	d.I += 2
	return true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

// Int reads an integer literal that fits an int64.
func (d *Cursor) Int() (int64, bool) {
	b, i := d.B, d.I
	neg := i < len(b) && b[i] == '-'
	if neg {
		i++
	}
	digits := i
	var n uint64
	for ; i < len(b) && '0' <= b[i] && b[i] <= '9'; i++ {
		n = n*10 + uint64(b[i]-'0') // 19 digits at most fit
	}
	switch {
	case i == digits || i-digits > 19 || b[digits] == '0' && i-digits > 1: // JSON has no leading zeros
		return 0, false
	case i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E'):
		return 0, false
	case neg && n <= 1<<63:
		d.I = i
		return int64(-n), true
	case !neg && n < 1<<63:
		d.I = i
		return int64(n), true
	}
	return 0, false
}

// IntPtr reads an integer literal into a new int64.
func (d *Cursor) IntPtr() (*int64, bool) {
	n, ok := d.Int()
	return &n, ok
}

// Bool reads true or false.
func (d *Cursor) Bool() (bool, bool) {
	switch {
	case d.I+4 <= len(d.B) && string(d.B[d.I:d.I+4]) == "true":
		d.I += 4
		return true, true
	case d.I+5 <= len(d.B) && string(d.B[d.I:d.I+5]) == "false":
		d.I += 5
		return false, true
	}
	return false, false
}

// Time reads a time as time.Time's UnmarshalJSON does, from a string of plain
// ASCII.
func (d *Cursor) Time() (time.Time, bool) {
	var t time.Time
	b, start := d.B, d.I
	if start >= len(b) || b[start] != '"' {
		return t, false
	}
	i := start + 1
	for i < len(b) && plain[b[i]] {
		i++
	}
	if i >= len(b) || b[i] != '"' {
		return t, false
	}
	d.I = i + 1
	return t, t.UnmarshalJSON(b[start:d.I]) == nil
}
