// Package servertest holds the one policy of every test that needs a real server
// or program (Redis, Prosody, an SMTP server, Chromium): where it is missing the
// test is skipped with a message saying what to install, unless
// FLAPJACK_TEST_REQUIRE_SERVERS is set — as CI sets it — which makes a missing
// server a failure, so that a green run cannot hide skipped tests.
package servertest

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// RequireServersEnv names the environment variable that turns a missing server
// into a failure.
const RequireServersEnv = "FLAPJACK_TEST_REQUIRE_SERVERS"

// Missing skips t because what is not available, or fails it when
// RequireServersEnv is set. install says how to get it.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	msg := fmt.Sprintf("%s not found (%s); the tests that need it are skipped", what, install)
	if os.Getenv(RequireServersEnv) != "" {
		t.Fatalf("%s, but %s is set, so a missing server is a failure", msg, RequireServersEnv)
	}
	t.Skip(msg)
}

// LookPath returns the path of the first of names found in PATH, or calls
// Missing.
func LookPath(t testing.TB, install string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, fmt.Sprintf("%v in PATH", names), install)
	return ""
}

// Terminate asks the process cmd started to stop (SIGTERM) and waits until
// exited is closed, at most grace; then it kills the process — with its whole
// process group when group is set, for a server whose children must go too —
// and waits for it. It reports whether the process had to be killed.
func Terminate(cmd *exec.Cmd, exited <-chan struct{}, grace time.Duration, group bool) (killed bool) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return false
	case <-time.After(grace):
	}
	if group {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	} else {
		_ = cmd.Process.Kill()
	}
	<-exited
	return true
}
