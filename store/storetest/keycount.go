package storetest

import (
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// testKeyCounter checks, for a store that is a store.KeyCounter, that its count
// follows what the store holds: it grows with a check and shrinks back when
// the check is deleted, and grows with the routing data and a queued item.
func testKeyCounter(t *testing.T, newStore newStoreFunc) {
	s := newStore(t)
	kc, ok := s.(store.KeyCounter)
	if !ok {
		t.Skip("the store is not a store.KeyCounter")
	}
	count := func() int64 {
		t.Helper()
		n, err := kc.KeyCount(t.Context())
		if err != nil {
			t.Fatalf("KeyCount: %v", err)
		}
		return n
	}
	steps := []struct {
		name string
		do   func(t *testing.T)
		want func(before, after int64) bool
		says string
	}{
		{"create a check", func(t *testing.T) { create(t, s, "web-1:http", nil) },
			func(b, a int64) bool { return a > b }, "grow"},
		{"delete it", func(t *testing.T) {
			if err := s.DeleteCheck(t.Context(), "web-1:http"); err != nil {
				t.Fatalf("DeleteCheck: %v", err)
			}
		}, func(b, a int64) bool { return a < b }, "shrink"},
		{"put a contact", func(t *testing.T) {
			if err := s.PutContact(t.Context(), flapjack.Contact{ID: "c1", Name: "Ada"}); err != nil {
				t.Fatalf("PutContact: %v", err)
			}
		}, func(b, a int64) bool { return a > b }, "grow"},
		{"push onto a queue", func(t *testing.T) { push(t, s.Queue("counted"), "x") },
			func(b, a int64) bool { return a > b }, "grow"},
	}
	empty := count()
	if empty < 0 {
		t.Fatalf("KeyCount of an empty store = %d", empty)
	}
	before := empty
	for i, st := range steps {
		st.do(t)
		after := count()
		if !st.want(before, after) {
			t.Errorf("%s: KeyCount went from %d to %d, want it to %s", st.name, before, after, st.says)
		}
		if i == 1 && after != empty {
			t.Errorf("%s: KeyCount %d, want %d as in the empty store", st.name, after, empty)
		}
		before = after
	}
}
