package processor

import (
	"time"

	"github.com/x/flapjack"
)

// Observer is told what a processor did, for example to export metrics. Its
// methods are called from the goroutine that processed the events, so they
// must be quick and safe for concurrent use.
type Observer interface {
	// EventsProcessed is called each time the processor adds to its statistics:
	// once per event for Process and ProcessRaw, once per batch for Run and
	// ProcessBatch, with the counts of the events handled (as the store's
	// statistics count them) and the time since they were taken, by the
	// processor's clock. Events handled together share that time.
	EventsProcessed(stats flapjack.Statistics, elapsed time.Duration)
}

// observe tells the observer, if any, of events handled since taken.
func (p *Processor) observe(taken time.Time, d flapjack.Statistics) {
	if o := p.opts.Observer; o != nil {
		o.EventsProcessed(d, p.opts.Clock.Now().Sub(taken))
	}
}
