// Package uuid makes random (version 4) UUIDs as strings, in one allocation:
// Flapjack makes one for every notification and every alert.
package uuid

import "crypto/rand"

// NewString returns a new random UUID in its canonical form, such as
// "f47ac10b-58cc-4372-a567-0e02b2c3d479": the same as
// github.com/google/uuid.NewString, which costs two allocations where this
// costs one.
func NewString() string {
	var u [16]byte
	rand.Read(u[:])         // never fails: the program crashes first
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10 (RFC 9562)
	const hex = "0123456789abcdef"
	var s [36]byte
	j := 0
	for i, b := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			s[j] = '-'
			j++
		}
		s[j], s[j+1] = hex[b>>4], hex[b&0xf]
		j += 2
	}
	return string(s[:])
}
