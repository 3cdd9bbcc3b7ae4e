package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultSignatureHeader is the header carrying a request's signature when the
// configuration names none.
const DefaultSignatureHeader = "X-Flapjack-Signature"

// DefaultTolerance is how far from the receiver's clock a signature's time may
// be when Verify is given no tolerance: long enough for clock skew and a slow
// network, short enough that a captured request is soon useless.
const DefaultTolerance = 5 * time.Minute

// The errors of [Verify]. None of them shows the secret or the signature.
var (
	// ErrNoSignature: the header is missing or not of the form
	// "t=<seconds>,v1=<hex>".
	ErrNoSignature = errors.New("webhook signature missing or malformed")
	// ErrSignatureMismatch: no v1 value is the body's signature with this
	// secret: the body was changed, or the secret is not the sender's.
	ErrSignatureMismatch = errors.New("webhook signature does not match")
	// ErrSignatureExpired: the signature's time is too far from now: a replay,
	// or clocks far apart.
	ErrSignatureExpired = errors.New("webhook signature outside the time tolerance")
)

// Sign returns the signature header value of body sent at t with secret:
// "t=<Unix seconds>,v1=<hex HMAC-SHA256 of "<seconds>.<body>">".
func Sign(secret, body []byte, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks, for a receiver, that header (the signature header's value) signs
// body with secret, and that its time is within tolerance of now (DefaultTolerance
// when tolerance ≤ 0), so that a request captured and replayed later is refused.
// Any one of several v1 values may match, so a sender may sign with an old and a
// new secret while receivers change over. body must be the request body exactly as
// received, before any decoding. The error wraps ErrNoSignature,
// ErrSignatureMismatch or ErrSignatureExpired.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if len(secret) == 0 {
		return errors.New("webhook signature: verifying with an empty secret")
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrNoSignature
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size {
				return ErrNoSignature
			}
			sigs = append(sigs, sig)
		}
		// Other schemes are ignored, so that senders may add new ones.
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := mac(secret, ts, body)
	matched := false
	for _, sig := range sigs {
		matched = hmac.Equal(sig, want) || matched
	}
	if !matched {
		return ErrSignatureMismatch
	}
	// Checked after the signature, so that the time is known to be the sender's.
	if skew := now.Sub(time.Unix(secs, 0)).Abs(); skew > tolerance {
		return fmt.Errorf("%w: signed %s from now, tolerance %s", ErrSignatureExpired, skew.Truncate(time.Second), tolerance)
	}
	return nil
}
