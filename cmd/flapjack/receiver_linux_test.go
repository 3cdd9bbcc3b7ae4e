package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestReceiverJSONRefusesATerminal runs "receiver json" with a pseudo-terminal
// as its standard input.
func TestReceiverJSONRefusesATerminal(t *testing.T) {
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer ptm.Close()
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Skipf("unlock the pseudo-terminal: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Skipf("name the pseudo-terminal: %v", e)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the pseudo-terminal: %v", err)
	}
	defer pts.Close()

	r := runWithInput(t, pts, "receiver", "json", "--intake", "http://127.0.0.1:1")
	if r.code != 1 || r.stderr != "No file provided, and STDIN is from terminal! Exiting...\n" || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 1 and the refusal", r.code, r.stdout, r.stderr)
	}
	// The null device is no terminal: an empty stream.
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if r := runWithInput(t, null, "receiver", "json", "--intake", "http://127.0.0.1:1"); r.code != 0 || strings.TrimSpace(r.stdout) != "Done." {
		t.Errorf("from %s: exit %d, stdout %q, stderr %q", os.DevNull, r.code, r.stdout, r.stderr)
	}
}
