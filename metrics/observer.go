package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/processor"
)

// durationBuckets are the bounds, in seconds, of the processing histograms: from
// a tenth of a millisecond (in memory) to seconds (a slow store).
var durationBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// Observer counts what the processor and the notifier report. It is a
// prometheus.Collector; New registers it. Its methods are safe for concurrent
// use.
type Observer struct {
	events        *prometheus.CounterVec
	eventDuration prometheus.Histogram
	notifications *prometheus.CounterVec
	alerts        *prometheus.CounterVec
	noteDuration  prometheus.Histogram

	all, ok, failure, action, invalid prometheus.Counter
}

// NewObserver returns an Observer with every count at zero.
func NewObserver() *Observer {
	o := &Observer{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "events_total",
			Help: `Events taken off the events queue by this process's processor, by kind: "all" counts every event; "ok", "failure" (service events by health), "action" (acknowledgements) and "invalid" count some of them.`,
		}, []string{"kind"}),
		eventDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "processor", Name: "event_duration_seconds",
			Help:    "Time from an event taken off the queue to its check recorded; events taken together share their batch's time.",
			Buckets: durationBuckets,
		}),
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_total",
			Help: "Notifications handled by this process's notifier, by type.",
		}, []string{"type"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "alerts_total",
			Help: "Alerts enqueued by this process's notifier, by transport.",
		}, []string{"transport"}),
		noteDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "notifier", Name: "notification_duration_seconds",
			Help:    "Time the notifier took to handle one notification.",
			Buckets: durationBuckets,
		}),
	}
	// Every kind and type is exported from the start, at zero, so that a
	// rate() over them works before the first one happens.
	o.all = o.events.WithLabelValues("all")
	o.ok = o.events.WithLabelValues("ok")
	o.failure = o.events.WithLabelValues("failure")
	o.action = o.events.WithLabelValues("action")
	o.invalid = o.events.WithLabelValues("invalid")
	for _, t := range []flapjack.AlertType{flapjack.TypeProblem, flapjack.TypeRecovery, flapjack.TypeAcknowledgement, flapjack.TypeTest} {
		o.notifications.WithLabelValues(string(t))
	}
	return o
}

// EventsProcessed implements processor.Observer.
func (o *Observer) EventsProcessed(s flapjack.Statistics, elapsed time.Duration) {
	o.all.Add(float64(s.AllEvents))
	o.ok.Add(float64(s.OKEvents))
	o.failure.Add(float64(s.FailureEvents))
	o.action.Add(float64(s.ActionEvents))
	o.invalid.Add(float64(s.InvalidEvents))
	secs := max(elapsed, 0).Seconds()
	for range s.AllEvents {
		o.eventDuration.Observe(secs)
	}
}

// Notified implements notifier.Observer.
func (o *Observer) Notified(note *flapjack.Notification, alerts []flapjack.Alert, elapsed time.Duration) {
	o.notifications.WithLabelValues(string(note.Type())).Inc()
	for i := range alerts {
		o.alerts.WithLabelValues(alerts[i].Transport).Inc()
	}
	o.noteDuration.Observe(max(elapsed, 0).Seconds())
}

// Describe implements prometheus.Collector.
func (o *Observer) Describe(ch chan<- *prometheus.Desc) {
	o.events.Describe(ch)
	o.eventDuration.Describe(ch)
	o.notifications.Describe(ch)
	o.alerts.Describe(ch)
	o.noteDuration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (o *Observer) Collect(ch chan<- prometheus.Metric) {
	o.events.Collect(ch)
	o.eventDuration.Collect(ch)
	o.notifications.Collect(ch)
	o.alerts.Collect(ch)
	o.noteDuration.Collect(ch)
}

var (
	_ processor.Observer   = (*Observer)(nil)
	_ notifier.Observer    = (*Observer)(nil)
	_ prometheus.Collector = (*Observer)(nil)
)
