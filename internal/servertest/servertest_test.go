package servertest

import (
	"os/exec"
	"syscall"
	"testing"
	"time"
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

func TestTerminate(t *testing.T) {
	for _, c := range []struct {
		name   string
		script string
		group  bool
		killed bool
	}{
		{"exits on SIGTERM", "exec sleep 30", false, false},
		{"ignores SIGTERM", `trap "" TERM; while :; do sleep 0.05; done`, false, true},
		{"ignores SIGTERM, group killed", `trap "" TERM; while :; do sleep 0.05; done`, true, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", c.script)
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Skipf("no sh: %v", err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			time.Sleep(100 * time.Millisecond) // let the shell set its trap
			if killed := Terminate(cmd, exited, 300*time.Millisecond, c.group); killed != c.killed {
				t.Errorf("killed = %v, want %v", killed, c.killed)
			}
			select {
			case <-exited:
			default:
				t.Error("Terminate returned before the process exited")
			}
		})
	}
}
