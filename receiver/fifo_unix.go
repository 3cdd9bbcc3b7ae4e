//go:build unix

package receiver

import (
	"errors"
	"os"
	"syscall"
)

// canRead asks whether this process may read path.
func canRead(path string) error {
	const readable = 4 // R_OK
	return syscall.Access(path, readable)
}

// awaitData waits until the pipe file (opened without waiting for a writer)
// holds data, and reads what is there into buf. Reading a pipe that has no
// writer finds nothing at once, as if it had ended, so the wait is the
// poller's: it ends when a writer writes. (A writer that opens the pipe and
// closes it without writing wakes the poller; the read then finds nothing again
// and the wait goes on.)
func awaitData(file *os.File, buf []byte) (int, error) {
	rc, err := file.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		n    int
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), buf)
		switch {
		case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
			return false
		case rerr == nil && n == 0:
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, &os.PathError{Op: "read", Path: file.Name(), Err: rerr}
	}
	return n, nil
}
