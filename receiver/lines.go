package receiver

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"

	"github.com/x/flapjack"
)

// LineReceiver parses lines into events and sends them: its Line method is what
// FIFO.Run calls with each line. A line Parse rejects is logged (a warning,
// or at debug level for an ErrUnsupportedCommand) and skipped; an event the
// Sender fails to deliver is logged as an error and dropped: check results
// repeat, and the next one of the check takes its place.
type LineReceiver struct {
	// Parse turns a line into an event: ParseNagiosLine or ParseNSCALine.
	// Required.
	Parse func(line string) (flapjack.Event, error)
	// Sender delivers the events. Required.
	Sender Sender
	// Logger receives rejected lines and failed sends. Default discard.
	Logger *slog.Logger

	sent, rejected, failed atomic.Int64
}

// LineCounts counts what a LineReceiver did with its lines.
type LineCounts struct {
	// Sent counts the events delivered.
	Sent int64
	// Rejected counts the lines Parse rejected.
	Rejected int64
	// Failed counts the events the Sender did not deliver.
	Failed int64
}

// Counts returns the counts so far.
func (r *LineReceiver) Counts() LineCounts {
	return LineCounts{Sent: r.sent.Load(), Rejected: r.rejected.Load(), Failed: r.failed.Load()}
}

// Line handles one line.
func (r *LineReceiver) Line(ctx context.Context, line []byte) {
	log := r.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ev, err := r.Parse(string(line))
	if err != nil {
		r.rejected.Add(1)
		level := slog.LevelWarn
		if errors.Is(err, ErrUnsupportedCommand) {
			level = slog.LevelDebug
		}
		log.Log(ctx, level, "rejecting line", "err", err, "line", quote(string(line)))
		return
	}
	if err := r.Sender.Send(ctx, ev); err != nil {
		if ctx.Err() != nil {
			return // stopping: not a failure to report
		}
		r.failed.Add(1)
		log.Error("event not sent", "err", err, "check", ev.CheckName(), "state", ev.State)
		return
	}
	r.sent.Add(1)
	log.Debug("event sent", "check", ev.CheckName(), "state", ev.State)
}
