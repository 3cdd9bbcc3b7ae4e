//go:build unix

package receiver_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/x/flapjack/receiver"
)

func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "event_stream.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	return path
}

// openWriter opens the pipe for writing, which waits for its reader.
func openWriter(t *testing.T, path string) *os.File {
	t.Helper()
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			t.Fatal(o.err)
		}
		return o.f
	case <-time.After(wait):
		// Let the open through, so that its goroutine ends.
		if r, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
			r.Close()
		}
		t.Fatalf("no reader opened %s within %s", path, wait)
		return nil
	}
}

// fifoRun runs a FIFO in the background; stop cancels it and waits for Run.
type fifoRun struct {
	lines chan string
	done  chan error
	stop  func()
}

func runFIFO(t *testing.T, f *receiver.FIFO) *fifoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &fifoRun{lines: make(chan string, 100), done: make(chan error, 1)}
	go func() {
		r.done <- f.Run(ctx, func(_ context.Context, line []byte) { r.lines <- string(line) })
	}()
	var once sync.Once
	r.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-r.done:
				if err != nil {
					t.Errorf("Run returned %v after its context ended, want nil", err)
				}
			case <-time.After(wait):
				t.Errorf("Run did not return within %s of its context ending", wait)
			}
		})
	}
	t.Cleanup(r.stop)
	return r
}

func (r *fifoRun) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-r.lines:
			if got != w {
				t.Fatalf("line %q, want %q", got, w)
			}
		case err := <-r.done:
			t.Fatalf("Run returned %v while line %q was expected", err, w)
		case <-time.After(wait):
			t.Fatalf("line %q not read within %s", w, wait)
		}
	}
}

func write(t *testing.T, f *os.File, s string) {
	t.Helper()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestFIFOReadsAndReopens(t *testing.T) {
	path := mkfifo(t)
	var logs syncBuffer
	r := runFIFO(t, &receiver.FIFO{
		Path: path, ReopenDelay: 10 * time.Millisecond, MaxLine: 100,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})

	w := openWriter(t, path)
	write(t, w, "first\nsecond\r\n\n")
	r.expect(t, "first", "second") // the empty line is skipped
	write(t, w, "split ")
	write(t, w, "across writes\n"+strings.Repeat("x", 101)+"\nafter the long one\n")
	r.expect(t, "split across writes", "after the long one")
	write(t, w, "last, without a line ending")
	w.Close()
	r.expect(t, "last, without a line ending")

	// Nagios restarts: a new writer finds the reader back.
	w = openWriter(t, path)
	write(t, w, "after reopening\n")
	r.expect(t, "after reopening")
	w.Close()

	w = openWriter(t, path)
	write(t, w, strings.Repeat("y", 200*1024)+"\nshort\n") // longer than the reader's buffer
	r.expect(t, "short")
	w.Close()

	r.stop()
	select {
	case l := <-r.lines:
		t.Errorf("unexpected line %q", l)
	default:
	}
	for _, want := range []string{
		"reading the fifo", "the fifo's writer closed it; will reopen it",
		"rejecting a line longer than the limit",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "rejecting a line longer than the limit"); n != 2 {
		t.Errorf("%d long lines reported, want 2:\n%s", n, logs.String())
	}
}

// TestFIFOAlwaysHasAReader: writers that open the pipe for one line each, as
// NSCA does, never find it without a reader, whether the receiver reads or
// waits to reopen it, and none of their lines is lost.
func TestFIFOAlwaysHasAReader(t *testing.T) {
	path := mkfifo(t)
	var logs syncBuffer
	r := runFIFO(t, &receiver.FIFO{Path: path, ReopenDelay: 20 * time.Millisecond, Logger: slogText(&logs)})
	first := openWriter(t, path) // waits for the receiver to open the pipe
	write(t, first, "line 0\n")
	first.Close()
	var want []string
	for i := range 50 {
		// Without waiting: this fails (ENXIO) when the pipe has no reader.
		w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatalf("writer %d: %v", i+1, err)
		}
		l := fmt.Sprintf("line %d", i+1)
		write(t, w, l+"\n")
		w.Close()
		want = append(want, l)
	}
	r.expect(t, "line 0")
	r.expect(t, want...)
	// Once the last writer is gone, the receiver waits and reopens the pipe.
	for deadline := time.Now().Add(wait); !strings.Contains(logs.String(), "the fifo's writer closed it; will reopen it"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver did not notice the writers had gone:\n%s", logs.String())
		}
	}
}

func TestFIFOLongLinesWithinLimit(t *testing.T) {
	path := mkfifo(t)
	r := runFIFO(t, &receiver.FIFO{Path: path, ReopenDelay: 10 * time.Millisecond})
	long := strings.Repeat("z", 300*1024) // several reader buffers, under the 1 MiB default
	w := openWriter(t, path)
	write(t, w, long+"\nnext\n")
	r.expect(t, long, "next")
	w.Close()
}

// TestFIFOStops checks that Run returns promptly whether it waits for a
// writer, reads, or waits to reopen.
func TestFIFOStops(t *testing.T) {
	t.Run("waiting for a writer", func(t *testing.T) {
		r := runFIFO(t, &receiver.FIFO{Path: mkfifo(t)})
		r.stop()
	})
	t.Run("reading", func(t *testing.T) {
		path := mkfifo(t)
		r := runFIFO(t, &receiver.FIFO{Path: path})
		w := openWriter(t, path)
		defer w.Close()
		write(t, w, "one\n")
		r.expect(t, "one")
		r.stop()
	})
	t.Run("waiting to reopen", func(t *testing.T) {
		path := mkfifo(t)
		r := runFIFO(t, &receiver.FIFO{Path: path, ReopenDelay: time.Hour})
		w := openWriter(t, path)
		write(t, w, "one\n")
		w.Close()
		r.expect(t, "one")
		r.stop()
	})
}

func TestFIFOCheck(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		is   error
		want string
	}{
		{"missing", filepath.Join(dir, "missing.fifo"), fs.ErrNotExist, "missing.fifo"},
		{"a regular file", plain, receiver.ErrNotPipe, "not a named pipe (create one with mkfifo)"},
		{"a directory", dir, receiver.ErrNotPipe, "not a named pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &receiver.FIFO{Path: tc.path}
			err := f.Check()
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check() = %v, want an error matching %v saying %q", err, tc.is, tc.want)
			}
			// Run fails the same way at once.
			if err := f.Run(context.Background(), func(context.Context, []byte) {}); !errors.Is(err, tc.is) {
				t.Errorf("Run = %v, want an error matching %v", err, tc.is)
			}
		})
	}
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root may read any pipe")
		}
		path := mkfifo(t)
		if err := os.Chmod(path, 0o200); err != nil {
			t.Fatal(err)
		}
		if err := (&receiver.FIFO{Path: path}).Check(); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Check() = %v, want a permission error", err)
		}
	})
	if err := (&receiver.FIFO{Path: mkfifo(t)}).Check(); err != nil {
		t.Errorf("Check() of a pipe = %v", err)
	}
}
