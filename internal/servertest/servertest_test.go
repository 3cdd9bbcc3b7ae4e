package servertest

import (
	"testing"
)

// fakeT records what a test helper did to its test.
type fakeT struct {
	testing.TB
	skipped, failed bool
}

func (f *fakeT) Helper()                  {}
func (f *fakeT) Skip(...any)              { f.skipped = true }
func (f *fakeT) Fatalf(string, ...any)    { f.failed = true }
func (f *fakeT) Setenv(key, value string) {}

func TestMissingSkipsOrFails(t *testing.T) {
	t.Setenv(RequireServersEnv, "")
	f := &fakeT{}
	LookPath(f, "install it", "no-such-program-flapjack")
	if !f.skipped || f.failed {
		t.Errorf("without %s: skipped %v, failed %v; want a skip", RequireServersEnv, f.skipped, f.failed)
	}
	t.Setenv(RequireServersEnv, "1")
	f = &fakeT{}
	LookPath(f, "install it", "no-such-program-flapjack")
	if !f.failed {
		t.Errorf("with %s set: failed %v; want a failure", RequireServersEnv, f.failed)
	}
	if p := LookPath(t, "", "no-such-program-flapjack", "sh"); p == "" {
		t.Error("LookPath did not find sh")
	}
}
