package main

import (
	"errors"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// The flapper as people run it: reachable in its up half, refused in its down
// half, stopped by SIGINT.
func TestFlapperCommand(t *testing.T) {
	port := freePort(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(binary, "flapper", "-b", "127.0.0.1", "-P", strconv.Itoa(port), "-f", "0.4")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-done
		}
	})

	// poll dials until the flapper is in the wanted half, within wait.
	poll := func(up bool) {
		t.Helper()
		deadline := time.Now().Add(wait)
		for {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				if up {
					return
				}
			} else if !up && errors.Is(err, syscall.ECONNREFUSED) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the flapper was never up=%t within %s (last: %v):\n%s", up, wait, err, stderr)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	for range 2 {
		poll(true)
		poll(false)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("flapper exited with %v after SIGINT, want status 0:\n%s", err, stderr)
		}
	case <-time.After(shutdownWait):
		t.Fatalf("flapper still running %s after SIGINT", shutdownWait)
	}
	if !containsAll(stderr.String(), "flapper up", "flapper down", addr) {
		t.Errorf("the log does not show the changes:\n%s", stderr)
	}
}

func TestFlapperCommandErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"flapper", "-b", "127.0.0.1", "-P", busyPort}, 1, "address already in use"},
		{[]string{"flapper", "-b", "127.0.0.1", "-f", "0"}, 2, "--frequency 0: want more than 0 seconds"},
		{[]string{"flapper", "-b", "127.0.0.1", "-P", "70000"}, 2, "--bind-port 70000"},
		{[]string{"flapper", "-f", "often"}, 1, `invalid argument "often"`},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != tc.code || !containsAll(r.stderr, tc.want) {
			t.Errorf("flapjack %v: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}
