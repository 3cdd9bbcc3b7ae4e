// Package bufpool lends byte buffers for encoding queue payloads. A store copies
// the payloads it enqueues (the storetest suite holds every store to that), so
// the processor and the notifier encode into a borrowed buffer and give it back
// once the store call returns, rather than allocating a payload per message.
package bufpool

import "sync"

// maxKept is the largest buffer kept for reuse: an odd huge payload should not
// stay in memory for good.
const maxKept = 64 << 10

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Get returns an empty buffer.
func Get() *[]byte {
	b := pool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// Put gives b back; nothing may use it afterwards.
func Put(b *[]byte) {
	if b == nil || cap(*b) > maxKept {
		return
	}
	pool.Put(b)
}
