package metrics

import (
	"context"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/pipeline"
)

// collector reads, at each scrape, what is not counted as it happens: the
// deliveries' metrics, the stages' states and the queues' lengths.
type collector struct {
	opts Options

	sent, failed, retried, dead, latency *prometheus.Desc
	queueLength, storeUp                 *prometheus.Desc
	stageUp, stageRestarts               *prometheus.Desc
}

func newCollector(opts Options) *collector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &collector{
		opts:          opts,
		sent:          desc("delivery_sent_total", "Alerts delivered, by transport.", "transport"),
		failed:        desc("delivery_failed_total", "Failed delivery attempts, by transport: an alert retried twice and then delivered adds 2.", "transport"),
		retried:       desc("delivery_retried_total", "Delivery attempts made after a failed one, by transport.", "transport"),
		dead:          desc("delivery_dead_lettered_total", "Alerts moved to the dead-letter queue, unreadable ones included, by transport.", "transport"),
		latency:       desc("delivery_duration_seconds", "Time of each delivery attempt, failed ones included, by transport.", "transport"),
		queueLength:   desc("queue_length", `Items waiting on a queue (reserved ones not counted); kind is "events", "notifications", "alerts" or "dead_letters".`, "queue", "kind", "transport"),
		storeUp:       desc("store_up", "1 when the length of every queue could be read at this scrape, else 0."),
		stageUp:       desc("stage_up", "1 while a pipeline stage runs, 0 while it waits to be restarted after a failure.", "stage"),
		stageRestarts: desc("stage_restarts_total", "Restarts of a pipeline stage after failures.", "stage"),
	}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sent, c.failed, c.retried, c.dead, c.latency, c.queueLength, c.storeUp, c.stageUp, c.stageRestarts} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if p := c.opts.Pipeline; p != nil {
		c.collectDeliveries(ch, p.DeliveryMetrics())
		c.collectStages(ch, p.Stages())
	}
	c.collectQueues(ch)
}

func (c *collector) collectDeliveries(ch chan<- prometheus.Metric, all map[string]gateway.MetricsSnapshot) {
	for _, t := range slices.Sorted(maps.Keys(all)) {
		s := all[t]
		ch <- prometheus.MustNewConstMetric(c.sent, prometheus.CounterValue, float64(s.Sent), t)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(s.Failed), t)
		ch <- prometheus.MustNewConstMetric(c.retried, prometheus.CounterValue, float64(s.Retried), t)
		ch <- prometheus.MustNewConstMetric(c.dead, prometheus.CounterValue, float64(s.DeadLettered), t)
		buckets := make(map[float64]uint64, len(s.Latency.Buckets))
		for _, b := range s.Latency.Buckets {
			buckets[b.UpperBound.Seconds()] = b.Count
		}
		ch <- prometheus.MustNewConstHistogram(c.latency, s.Latency.Count, s.Latency.Sum.Seconds(), buckets, t)
	}
}

func (c *collector) collectStages(ch chan<- prometheus.Metric, stages []pipeline.StageStatus) {
	for _, s := range stages {
		up := 0.0
		if s.State == pipeline.StageRunning {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.stageUp, prometheus.GaugeValue, up, s.Name)
		ch <- prometheus.MustNewConstMetric(c.stageRestarts, prometheus.CounterValue, float64(s.Restarts), s.Name)
	}
}

// collectQueues reads every queue's length, all within QueueTimeout. A queue
// that cannot be read is left out, and store_up says so.
func (c *collector) collectQueues(ch chan<- prometheus.Metric) {
	if c.opts.Queues == nil || c.opts.QueueList == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.QueueTimeout)
	defer cancel()
	up := 1.0
	seen := map[string]bool{}
	for _, q := range c.opts.QueueList() {
		if seen[q.Name] {
			continue
		}
		seen[q.Name] = true
		n, err := c.opts.Queues.Queue(q.Name).Len(ctx)
		if err != nil {
			up = 0
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.queueLength, prometheus.GaugeValue, float64(n), q.Name, q.Kind, q.Transport)
	}
	ch <- prometheus.MustNewConstMetric(c.storeUp, prometheus.GaugeValue, up)
}
