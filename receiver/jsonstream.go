package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JSONStream splits a stream holding any number of concatenated top-level JSON
// values — Flapjack events, one after another, with or without white space
// between them, each on one line or over several — into the values' bytes. It
// reads as it goes, so a value may span any number of reads and the stream may
// be endless (a pipe).
type JSONStream struct {
	dec *json.Decoder
	err error
}

// NewJSONStream returns a stream reading from r.
func NewJSONStream(r io.Reader) *JSONStream {
	return &JSONStream{dec: json.NewDecoder(r)}
}

// JSONSyntaxError is malformed JSON in a stream, including one cut short. Offset
// counts the bytes of the stream read before the problem was found.
type JSONSyntaxError struct {
	Offset int64
	Err    error
}

func (e *JSONSyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON after %d bytes: %v", e.Offset, e.Err)
}

func (e *JSONSyntaxError) Unwrap() error { return e.Err }

// Next returns the bytes of the next top-level value, exactly as written. It
// returns io.EOF after the last value, a *JSONSyntaxError for malformed JSON, and
// the reader's own error when reading fails; after an error it returns the same
// error again.
func (s *JSONStream) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	var raw json.RawMessage
	err := s.dec.Decode(&raw)
	switch {
	case err == nil:
		return raw, nil
	case errors.Is(err, io.EOF):
		s.err = io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The whole input was read: the value cut short is still buffered.
		n, _ := io.Copy(io.Discard, s.dec.Buffered())
		s.err = &JSONSyntaxError{Offset: s.dec.InputOffset() + n, Err: errors.New("unexpected end of input inside a value")}
	default:
		var se *json.SyntaxError
		if errors.As(err, &se) {
			s.err = &JSONSyntaxError{Offset: se.Offset, Err: err}
		} else {
			s.err = err
		}
	}
	return nil, s.err
}
