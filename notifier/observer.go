package notifier

import (
	"time"

	"github.com/x/flapjack"
)

// Observer is told what a notifier did, for example to export metrics. Its
// methods are called from the goroutine that handled the notification, so they
// must be quick and safe for concurrent use.
type Observer interface {
	// Notified is called for each notification Run handled: with the
	// notification, the alerts enqueued for it, and how long it took by the
	// notifier's clock (the last attempt, when the store failed before).
	Notified(note *flapjack.Notification, alerts []flapjack.Alert, elapsed time.Duration)
}
