// Package metrics exports what a Flapjack process does in the Prometheus text
// format, and says whether it is alive and ready.
//
// Counts of what the processor and the notifier handle come from an [Observer]
// handed to them (processor.Options.Observer, notifier.Options.Observer), not
// from the store's statistics: each process exports its own work, so that
// several processes sharing a Redis store are added up by Prometheus (sum
// without the instance label) rather than each exporting the same global
// counts. Delivery counts are read from the pipeline's gateway.Metrics at each
// scrape, and queue lengths from the store, with a time limit.
//
// The metrics, all prefixed "flapjack_":
//
//	events_total{kind}                          events taken off the events queue: kind "all"
//	                                            counts each, "ok", "failure", "action" and
//	                                            "invalid" count some of them (as Flapjack's
//	                                            statistics do), so do not add up the kinds
//	processor_event_duration_seconds            histogram: from an event taken off the queue
//	                                            to its check recorded (events taken together
//	                                            share their batch's time)
//	notifications_total{type}                   notifications handled: problem, recovery,
//	                                            acknowledgement, test
//	alerts_total{transport}                     alerts the notifier enqueued
//	notifier_notification_duration_seconds      histogram: time to handle one notification
//	delivery_sent_total{transport}              alerts delivered
//	delivery_failed_total{transport}            failed delivery attempts
//	delivery_retried_total{transport}           attempts made after a failed one
//	delivery_dead_lettered_total{transport}     alerts moved to the dead-letter queue
//	delivery_duration_seconds{transport}        histogram: time of each delivery attempt
//	queue_length{queue,kind,transport}          items waiting; kind is "events",
//	                                            "notifications", "alerts" or "dead_letters"
//	store_up                                    1 when every queue length was read, else 0
//	stage_up{stage}                             1 while a pipeline stage runs, 0 while it
//	                                            waits to be restarted
//	stage_restarts_total{stage}                 restarts of a stage after failures
//	build_info{version}                         always 1
//
// The Go runtime's and the process's standard metrics (go_*, process_*) are
// exported too.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/store"
)

// namespace prefixes every metric's name.
const namespace = "flapjack"

// Pipeline is what the metrics read of a running pipeline; *pipeline.Pipeline
// has it.
type Pipeline interface {
	// DeliveryMetrics returns each transport's delivery counts.
	DeliveryMetrics() map[string]gateway.MetricsSnapshot
	// Stages returns the status of every stage.
	Stages() []pipeline.StageStatus
}

var _ Pipeline = (*pipeline.Pipeline)(nil)

// Queue is a queue whose length is exported.
type Queue struct {
	// Name is the queue's name in the store.
	Name string
	// Kind is what it holds: "events", "notifications", "alerts" or
	// "dead_letters".
	Kind string
	// Transport is the transport of an alerts or dead-letter queue; empty
	// otherwise.
	Transport string
}

// The kinds of Queue.
const (
	KindEvents        = "events"
	KindNotifications = "notifications"
	KindAlerts        = "alerts"
	KindDeadLetters   = "dead_letters"
)

// Options configure Metrics. Every field is optional: what is missing is not
// exported.
type Options struct {
	// Pipeline is read at each scrape for the delivery counts and the stages.
	Pipeline Pipeline
	// Queues is where queue lengths are read.
	Queues store.Queues
	// QueueList returns the queues to report, at each scrape, so that it may
	// follow a configuration reloaded.
	QueueList func() []Queue
	// QueueTimeout bounds the reading of all queue lengths in one scrape.
	// Default 2 s.
	QueueTimeout time.Duration
	// Version is exported as build_info's label. Default "dev".
	Version string
}

// Metrics holds a process's metrics.
type Metrics struct {
	registry *prometheus.Registry
	observer *Observer
}

// New returns the metrics of one process, with a new registry.
func New(opts Options) *Metrics {
	if opts.QueueTimeout <= 0 {
		opts.QueueTimeout = 2 * time.Second
	}
	if opts.Version == "" {
		opts.Version = "dev"
	}
	m := &Metrics{registry: prometheus.NewRegistry(), observer: NewObserver()}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.observer,
		newCollector(opts),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Name: "build_info", Help: "Always 1; its label is the version of Flapjack.",
			ConstLabels: prometheus.Labels{"version": opts.Version},
		}, func() float64 { return 1 }),
	)
	return m
}

// Observer returns the observer to give the processor and the notifier.
func (m *Metrics) Observer() *Observer { return m.observer }

// Registry returns the registry, to which a program may add its own metrics.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics in the Prometheus text format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry:            m.registry, // counts its own scrapes and errors
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	})
}
