package uuid

import (
	"testing"

	guuid "github.com/google/uuid"
)

func TestNewString(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := NewString()
		u, err := guuid.Parse(s)
		if err != nil {
			t.Fatalf("NewString() = %q: %v", s, err)
		}
		if u.Version() != 4 || u.Variant() != guuid.RFC4122 || u.String() != s {
			t.Fatalf("NewString() = %q: version %d, variant %s, canonical %q; want version 4, RFC 4122, itself",
				s, u.Version(), u.Variant(), u.String())
		}
		if seen[s] {
			t.Fatalf("NewString() repeated %q", s)
		}
		seen[s] = true
	}
	if n := testing.AllocsPerRun(100, func() { _ = NewString() }); n > 1 && !raceEnabled {
		t.Errorf("NewString took %v allocations, want 1", n)
	}
}
