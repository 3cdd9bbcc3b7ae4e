package memory

import (
	"testing"

	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/storetest"
)

func TestDecisions(t *testing.T) {
	storetest.RunDecisions(t, func(t *testing.T) store.Store {
		s := New()
		t.Cleanup(func() { s.Close() })
		return s
	})
}
