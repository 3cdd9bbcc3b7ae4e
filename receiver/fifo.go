package receiver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"syscall"
	"time"

	"github.com/x/flapjack/internal/retry"
)

// Defaults of FIFO.
const (
	DefaultReopenDelay = 10 * time.Second
	DefaultMaxLine     = 1 << 20
)

// ErrNotPipe is FIFO.Check's error for a path that is not a named pipe.
var ErrNotPipe = errors.New("not a named pipe")

// FIFO reads lines from a named pipe (made with mkfifo) for as long as its
// context lasts. When the writer closes the pipe, or reading fails, it waits
// ReopenDelay and opens the pipe again (by name, so that a pipe made anew is
// picked up), until its context ends. Lines are handed over without their line
// ending.
//
// Unlike Flapjack v2's receivers, it never leaves the pipe without a reader: it
// opens the pipe without waiting for a writer, and keeps it open while it
// waits to reopen it, closing it only once the new one is open. So a writer
// never blocks (until the pipe's buffer is full) nor fails for want of a
// reader, nor loses what it writes: a writer that opens the pipe for each line
// (NSCA) is read after the wait, and a restarted Nagios carries on at once.
type FIFO struct {
	// Path is the named pipe. Required.
	Path string
	// ReopenDelay is the wait before opening the pipe again after its writer
	// closed it or reading failed. Default DefaultReopenDelay (10 seconds).
	ReopenDelay time.Duration
	// MaxLine bounds a line, in bytes; a longer one is reported and skipped.
	// Default DefaultMaxLine (1 MiB).
	MaxLine int
	// Logger receives the pipe's comings and goings and its failures. Default
	// discard.
	Logger *slog.Logger
}

// Check reports why the pipe cannot be read: it does not exist (an error
// matching fs.ErrNotExist), it is not a named pipe (ErrNotPipe), or it may not
// be read (fs.ErrPermission). Run checks it before it starts.
func (f *FIFO) Check() error {
	fi, err := os.Stat(f.Path)
	if err != nil {
		return fmt.Errorf("fifo: %w", err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return fmt.Errorf("fifo %s: %w (create one with mkfifo)", f.Path, ErrNotPipe)
	}
	// Asked rather than tried: opening the pipe, even without waiting, would let
	// a writer waiting for a reader through.
	if err := canRead(f.Path); err != nil {
		return fmt.Errorf("fifo: %w", &fs.PathError{Op: "read", Path: f.Path, Err: err})
	}
	return nil
}

// Run checks the pipe and returns Check's error when it cannot be read.
// Otherwise it calls line with each line read, one after another, until ctx
// ends; it then returns nil. The bytes of line are valid only during the call.
// A writer's last line needs no line ending.
//
// The context line is given does not end with ctx: a line being handled when
// ctx ends is handled to the end (so line must not block for long) and Run
// returns after it.
func (f *FIFO) Run(ctx context.Context, line func(ctx context.Context, line []byte)) error {
	if err := f.Check(); err != nil {
		return err
	}
	log := f.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	delay := f.ReopenDelay
	if delay <= 0 {
		delay = DefaultReopenDelay
	}
	maxLine := f.MaxLine
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	var file *os.File
	opened := false
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	for {
		// Opening to read without waiting for a writer never blocks; the pipe
		// read before is closed only once this one is open.
		next, err := os.OpenFile(f.Path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if file != nil {
			file.Close()
		}
		file = next
		if err != nil {
			log.Error("cannot open the fifo; will retry", "fifo", f.Path, "err", err, "retry_in", delay)
		} else {
			if opened {
				log.Debug("reopened the fifo", "fifo", f.Path)
			} else {
				log.Info("reading the fifo", "fifo", f.Path)
			}
			opened = true
			err = readLines(ctx, file, maxLine, log, line)
			if ctx.Err() != nil {
				return nil
			}
			if err != nil {
				log.Error("cannot read the fifo; will reopen it", "fifo", f.Path, "err", err, "reopen_in", delay)
			} else {
				log.Info("the fifo's writer closed it; will reopen it", "fifo", f.Path, "reopen_in", delay)
			}
		}
		if !retry.Sleep(ctx, delay) {
			return nil
		}
	}
}

// readLines waits for data in the pipe, then hands every line to line until the
// pipe's writers are gone (io.EOF, reported as nil) or ctx ends. A pipe is read
// through the runtime's poller, so a deadline interrupts a read or a wait.
func readLines(ctx context.Context, file *os.File, maxLine int, log *slog.Logger, line func(context.Context, []byte)) error {
	stop := context.AfterFunc(ctx, func() { _ = file.SetReadDeadline(time.Now()) })
	defer stop()
	lineCtx := context.WithoutCancel(ctx)
	first := make([]byte, 64<<10)
	n, err := awaitData(file, first)
	if err != nil {
		return err
	}
	r := bufio.NewReaderSize(io.MultiReader(bytes.NewReader(first[:n]), file), 64<<10)
	var buf []byte // a line longer than r's buffer, gathered
	tooLong := false
	for {
		if ctx.Err() != nil {
			if n := r.Buffered() + len(buf); n > 0 {
				log.Warn("stopping with lines read but not handled", "bytes", n)
			}
			return ctx.Err()
		}
		chunk, err := r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > maxLine+1 { // +1: the line ending
				tooLong, buf = true, buf[:0]
			} else if err == bufio.ErrBufferFull || len(buf) > 0 {
				buf = append(buf, chunk...)
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && err != io.EOF {
			return err // a line cut short by the failure is dropped
		}
		whole := chunk
		if len(buf) > 0 {
			whole = buf
		}
		if tooLong {
			log.Warn("rejecting a line longer than the limit", "limit_bytes", maxLine)
		} else if l := trimEOL(whole); len(l) > 0 {
			line(lineCtx, l)
		}
		buf, tooLong = buf[:0], false
		if err == io.EOF { // the writer closed the pipe; its last line needs no line ending
			return nil
		}
	}
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}
