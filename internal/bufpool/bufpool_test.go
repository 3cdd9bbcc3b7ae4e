package bufpool

import "testing"

func TestGetPut(t *testing.T) {
	b := Get()
	if len(*b) != 0 {
		t.Fatalf("Get returned %d bytes, want an empty buffer", len(*b))
	}
	*b = append(*b, "payload"...)
	Put(b)
	if c := Get(); len(*c) != 0 {
		t.Errorf("Get after Put returned %q, want an empty buffer", *c)
	}
	huge := make([]byte, 0, maxKept+1)
	Put(&huge) // dropped, not kept
	Put(nil)
}
