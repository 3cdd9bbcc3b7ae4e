package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/gateway"
	_ "github.com/x/flapjack/gateway/aspsms" // the "sms_aspsms" transport
	_ "github.com/x/flapjack/gateway/email"  // the "email" transport
	"github.com/x/flapjack/gateway/jabber"
	_ "github.com/x/flapjack/gateway/logalert"   // the "log" transport
	_ "github.com/x/flapjack/gateway/messagenet" // the "sms" transport (MessageNet)
	_ "github.com/x/flapjack/gateway/nexmo"      // the "sms_nexmo" transport
	"github.com/x/flapjack/gateway/pagerduty"
	_ "github.com/x/flapjack/gateway/slack"   // the "slack" transport
	_ "github.com/x/flapjack/gateway/sns"     // the "sns" transport
	_ "github.com/x/flapjack/gateway/threema" // the "threema" transport
	_ "github.com/x/flapjack/gateway/twilio"  // the "sms_twilio" transport
	_ "github.com/x/flapjack/gateway/webhook" // the "webhook" transport
	"github.com/x/flapjack/internal/accesslog"
	"github.com/x/flapjack/metrics"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	redisstore "github.com/x/flapjack/store/redis"
	"github.com/x/flapjack/web"
)

func newServerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "server",
		Short: "Run the daemon: processor, notifier, HTTP event intake and gateways",
		Long: `Runs every enabled component in one process until interrupted (SIGINT or
SIGTERM), then shuts down gracefully and exits 0.

Without --config it runs the embedded default: the processor, the notifier,
the HTTP event intake on 127.0.0.1:3081 (POST /events) and the log gateway,
all in memory. Send it events with, for example:

  curl -d '{"entity":"web-01","check":"HTTP","state":"critical","summary":"502"}' \
       http://127.0.0.1:3081/events

The same HTTP server answers GET /metrics (Prometheus), /healthz (alive) and
/readyz (store reachable and every component running; 503 otherwise).
[gateways.jsonapi] tokens_read and tokens_write require a bearer token for
everything but /healthz and /readyz (mandatory when bind_address is not a
loopback address); tls_cert_file and tls_key_file serve HTTPS.

With a [redis] table in the configuration every component runs on Redis
instead, and Flapjack's producers (Nagios flapjackfeeder, oneoff, httpbroker)
feed it by pushing events onto the "events" list.

SIGHUP reloads the configuration file and the set-up data, restarting only the
components whose settings changed; a configuration that does not validate is
logged and the running one kept. A component that fails is restarted after a
growing wait (up to a minute) while the others run on.

Exits 2 when the configuration is invalid or Redis cannot be used at start-up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, _ := cmd.Flags().GetString("config")
			cfg := config.Default()
			if path != "" {
				var err error
				if cfg, err = config.Load(path); err != nil {
					return &exitError{code: 2, err: err}
				}
			}
			return serve(cmd.Context(), cfg, cmd.ErrOrStderr(), nil)
		},
	}
}

// serve runs the daemon until ctx ends, reloading its configuration on SIGHUP.
// ready, when not nil, receives the intake's address once it listens.
func serve(ctx context.Context, cfg *config.Config, logw io.Writer, ready chan<- string) error {
	// SIGHUP is caught from the start: one that comes while the daemon starts
	// is handled once it runs, rather than killing it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	levels := newLogLevels(cfg, logw)
	log := levels.root()
	for _, w := range cfg.Warnings() {
		log.Warn(w)
	}
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while connecting
		}
		return err
	}
	defer st.Close()

	d := newServer(st, levels, log)
	plan, err := d.build(cfg, nil)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if err := d.applySetup(ctx, nil, plan); err != nil {
		return err
	}
	d.apply(nil, plan)
	d.ready.Probe = plan.eventsQueue
	if _, err := d.intake.update(plan); err != nil {
		return fmt.Errorf("event intake: %w", err)
	}
	if ready != nil && d.intake.addr != "" {
		ready <- d.intake.addr
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- d.pipe.Run(ctx) }()
	log.Info("flapjack started", "version", version,
		"processor", plan.processor != nil, "notifier", plan.notifier != nil,
		"gateways", slices.Sorted(maps.Keys(plan.gateways)))

	var runErr error
	pipeStopped := false
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case runErr = <-d.intake.errc:
			break loop
		case runErr = <-pipeDone:
			pipeStopped = true
			break loop
		case <-hup:
			d.reload(ctx)
		}
	}
	log.Info("shutting down")
	d.intake.shutdown(context.WithoutCancel(ctx), 10*time.Second)
	cancel()
	if !pipeStopped {
		if err := <-pipeDone; runErr == nil {
			runErr = err
		}
	}
	if d.processorRan {
		// This process's statistics go with it; the global counters stay.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := st.DeleteStatistics(dctx, d.instance); err != nil {
			log.Warn("statistics of this instance not removed", "instance", d.instance, "err", err)
		}
		dcancel()
	}
	return runErr
}

// server is the running daemon: its store, its pipeline, its HTTP server, and the
// plan of the configuration it runs.
type server struct {
	st       store.Store
	levels   *logLevels
	log      *slog.Logger
	instance string
	pipe     *pipeline.Pipeline
	metrics  *metrics.Metrics
	ready    *metrics.Readiness
	intake   *intake

	mu  sync.Mutex
	cur *plan // what runs; read by the metrics' queue list
	// processorRan is set once a processor was started: its statistics are
	// removed at shutdown.
	processorRan bool
	// sessionSecret signs the web interface's session cookie when
	// [gateways.web] session_secret is not set: random, for this process.
	sessionSecret []byte
}

func newServer(st store.Store, levels *logLevels, log *slog.Logger) *server {
	d := &server{st: st, levels: levels, log: log, instance: statisticsInstance(), sessionSecret: make([]byte, 32)}
	_, _ = rand.Read(d.sessionSecret) // never fails (crypto/rand)
	d.pipe = pipeline.New(st, pipeline.Options{Logger: log.With("component", "pipeline")})
	d.metrics = metrics.New(metrics.Options{Pipeline: d.pipe, Queues: st, QueueList: d.queueList, Version: version})
	d.ready = &metrics.Readiness{Pipeline: d.pipe, Queues: st}
	d.intake = &intake{d: d, errc: make(chan error, 1)}
	return d
}

// plan is what one configuration asks the daemon to run, built before anything
// changes so that a configuration that fails leaves the running one alone.
// Components whose settings did not change are carried over from the previous
// plan, the same values, so that comparing two plans tells what to restart.
type plan struct {
	cfg *config.Config
	// setup is the set-up data to apply; nil when none is configured.
	setup     *setup.Data
	setupName string
	// gateways are the enabled notification gateways, by transport.
	gateways    map[string]*gatewayPlan
	eventsQueue string
	// processor and notifier are nil when disabled; their keys tell whether
	// their settings changed.
	processor    *processor.Processor
	processorKey string
	notifier     *notifier.Notifier
	notifierKey  string
	jsonapi      config.JSONAPI
	// web is the web interface's settings, and logo its custom logo (nil for
	// none).
	web  config.Web
	logo *web.Logo
	// oobetet is the self-monitoring oobetet; nil when disabled.
	oobetet *oobetetPlan
}

// gatewayPlan is one enabled gateway with its delivery.
type gatewayPlan struct {
	key      string // the settings it was built from
	g        gateway.Gateway
	queue    string
	delivery gateway.DeliveryOptions
	poller   *pagerduty.AckPoller // nil unless PagerDuty polls acknowledgements
}

// build makes the plan of cfg, reusing from prev (nil at start) the components
// whose settings are unchanged. Its errors are the configuration's; the gateways
// it built before one failed are closed again.
func (d *server) build(cfg *config.Config, prev *plan) (_ *plan, err error) {
	if prev == nil {
		prev = &plan{}
	}
	p := &plan{cfg: cfg, gateways: map[string]*gatewayPlan{}, eventsQueue: cmp.Or(cfg.Processor.Queue, "events")}
	defer func() {
		if err == nil {
			return
		}
		for name, gp := range p.gateways {
			if c, ok := gp.g.(gateway.Closer); ok && gp != prev.gateways[name] {
				_ = c.Close()
			}
		}
	}()
	if f := cfg.SetupFile(); f != "" || cfg.Path == "" {
		data, err := loadSetup(f)
		if err != nil {
			if se := (*setup.Error)(nil); !errors.As(err, &se) {
				// Say which setting named the file that cannot be read.
				err = fmt.Errorf("%s: [setup] file: %w", cfg.Where("setup.file"), err)
			}
			return nil, err
		}
		p.setup, p.setupName = data, cmp.Or(f, "embedded default")
	}

	env := gateway.Env{Logger: d.log, Clock: flapjack.SystemClock{}, Templates: gateway.DefaultTemplates()}.WithDefaults()
	for _, name := range slices.Sorted(maps.Keys(cfg.Gateways)) {
		if isHTTPGateway(name) || name == oobetetName {
			continue
		}
		gp, err := d.buildGateway(cfg, name, env, prev.gateways[name])
		if err != nil {
			return nil, err
		}
		if gp != nil {
			p.gateways[name] = gp
		}
	}

	if p.oobetet, err = d.buildOobetet(cfg, env, prev.oobetet); err != nil {
		return nil, err
	}

	if cfg.ProcessorEnabled() {
		pc := cfg.Processor
		pc.LogLevel = "" // applied in place
		p.processorKey = fingerprint(pc, p.eventsQueue)
		if prev.processor != nil && prev.processorKey == p.processorKey {
			p.processor = prev.processor
		} else {
			ps, err := processorSettings(cfg)
			if err != nil {
				return nil, err
			}
			batch := cfg.Processor.BatchSize
			if batch == 0 && cfg.Redis != nil {
				batch = 500 // a round trip each way per batch: larger batches pay on Redis
			}
			p.processor = processor.New(d.st, processor.Options{
				Settings: ps, Queue: p.eventsQueue, NotifierQueue: cfg.Processor.NotifierQueue,
				Logger: d.levels.logger("processor").With("component", "processor"), Instance: d.instance,
				Observer: d.metrics.Observer(), BatchSize: batch,
				ArchiveEvents:       cfg.Processor.ArchiveEvents,
				EventsArchiveMaxAge: time.Duration(cfg.Processor.EventsArchiveMaxAge) * time.Second,
				NoDecisionLog:       isFalse(cfg.Processor.DecisionLog),
			})
		}
	}
	if cfg.NotifierEnabled() {
		queues := p.transportQueues()
		nc := cfg.Notifier
		nc.LogLevel = ""
		p.notifierKey = fingerprint(nc, queues)
		if prev.notifier != nil && prev.notifierKey == p.notifierKey {
			p.notifier = prev.notifier
		} else {
			var loc *time.Location
			if z := cfg.Notifier.DefaultContactTimezone; z != "" {
				loc, _ = time.LoadLocation(z) // validated with the configuration
			}
			p.notifier = notifier.New(d.st, notifier.Options{
				Queue: cfg.Notifier.Queue, TransportQueues: queues, DefaultContactTimezone: loc,
				Logger: d.levels.logger("notifier").With("component", "notifier"), Observer: d.metrics.Observer(),
				NoDecisionLog: isFalse(cfg.Notifier.DecisionLog),
			})
		}
	}
	j, err := cfg.JSONAPI()
	if err != nil {
		return nil, err
	}
	p.jsonapi = j
	if p.web, p.logo, err = webSettings(cfg); err != nil {
		return nil, err
	}
	return p, nil
}

// isFalse reports whether an optional boolean setting is given as false.
func isFalse(b *bool) bool { return b != nil && !*b }

// isHTTPGateway reports whether the gateway table name configures the HTTP
// server rather than a notification gateway.
func isHTTPGateway(name string) bool { return name == "jsonapi" || name == "web" }

// webSettings reads [gateways.web] and the logo it names.
func webSettings(cfg *config.Config) (config.Web, *web.Logo, error) {
	w, err := cfg.Web()
	if err != nil {
		return w, nil, fmt.Errorf("%s: [gateways.web] %w", cfg.Where("gateways.web"), err)
	}
	if w.LogoImagePath == "" {
		return w, nil, nil
	}
	logo, err := web.ReadLogo(w.LogoImagePath)
	if err != nil {
		return w, nil, fmt.Errorf("%s: [gateways.web] logo_image_path: %w", cfg.Where("gateways.web.logo_image_path"), err)
	}
	return w, logo, nil
}

// transportQueues maps each enabled gateway's transport to its queue.
func (p *plan) transportQueues() map[string]string {
	q := make(map[string]string, len(p.gateways))
	for name, g := range p.gateways {
		q[name] = g.queue
	}
	return q
}

// buildGateway makes the gateway called name as cfg configures it, or returns
// prev when its settings are those prev was built from; nil when it is not
// enabled.
func (d *server) buildGateway(cfg *config.Config, name string, env gateway.Env, prev *gatewayPlan) (*gatewayPlan, error) {
	var shared config.Gateway
	table := maps.Clone(cfg.Gateways[name])
	sharedFrom(table, &shared)
	if !shared.Enabled {
		return nil, nil
	}
	texts, err := readTemplates(cfg, name, table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Where("gateways."+name+".templates"), err)
	}
	gp := &gatewayPlan{queue: cmp.Or(shared.Queue, notifier.TransportQueue(name))}
	var extra []any
	if name == pagerduty.Transport {
		// Its poller sends acknowledgements to the processor's queue and
		// routes them in the notifier's default zone.
		extra = []any{cfg.Processor.Queue, cfg.Notifier.DefaultContactTimezone}
	}
	gp.key = fingerprint(table, texts, gp.queue, extra)
	if prev != nil && prev.key == gp.key {
		return prev, nil
	}
	for _, key := range slices.Sorted(maps.Keys(texts)) {
		if err := env.Templates.Override(name, key, texts[key]); err != nil {
			return nil, fmt.Errorf("%s: [gateways.%s.templates] %w", cfg.Where("gateways."+name+".templates"), name, err)
		}
	}
	dtable, err := takeDeliveryTable(name, table)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Where("gateways."+name+".delivery"), err)
	}
	log := d.levels.logger("gateways." + name)
	genv := env
	genv.Logger = log.With("component", "gateway")
	g, err := gateway.New(name, gateway.MapConfig(table), genv)
	if err != nil {
		return nil, fmt.Errorf("%s: [gateways.%s] %w", cfg.Where("gateways."+name), name, err)
	}
	if jg, ok := g.(*jabber.Gateway); ok {
		jg.ServeChat(d.st, d.st) // the chat bot reads checks and queues its events
	}
	var defaults gateway.DeliveryConfig
	if dd, ok := g.(gateway.DeliveryDefaulter); ok {
		defaults = dd.DeliveryDefaults()
	}
	dopts, err := deliveryOptions(name, defaults, dtable)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Where("gateways."+name+".delivery"), err)
	}
	dopts.Logger, dopts.Clock = log.With("component", "delivery"), env.Clock
	gp.g, gp.delivery = g, dopts
	if name == pagerduty.Transport {
		poller, err := ackPoller(cfg, d.st, table, env, log)
		if err != nil {
			return nil, fmt.Errorf("%s: [gateways.%s] %w", cfg.Where("gateways."+name), name, err)
		}
		gp.poller = poller
	}
	return gp, nil
}

// pollerStage names the pipeline stage of a gateway's acknowledgement poller.
func pollerStage(transport string) string { return transport + " acknowledgement poller" }

// apply makes the pipeline run next's components, stopping those of prev (nil
// at start) that next no longer has and restarting those that changed, and
// returns the names of the stages it started, restarted or stopped.
func (d *server) apply(prev, next *plan) []string {
	if prev == nil {
		prev = &plan{}
	}
	d.levels.set(next.cfg)
	var changed []string
	for _, name := range slices.Sorted(maps.Keys(mergeKeys(prev.gateways, next.gateways))) {
		old, gp := prev.gateways[name], next.gateways[name]
		if old == gp {
			continue
		}
		changed = append(changed, "gateway "+name)
		if gp == nil {
			d.pipe.SetGateway(name, nil, "", gateway.DeliveryOptions{})
			if old.poller != nil {
				d.pipe.SetComponent(pollerStage(name), nil)
			}
			continue
		}
		d.pipe.SetGateway(name, gp.g, gp.queue, gp.delivery)
		if gp.poller != nil {
			d.pipe.SetComponent(pollerStage(name), gp.poller.Run)
		} else if old != nil && old.poller != nil {
			d.pipe.SetComponent(pollerStage(name), nil)
		}
	}
	if prev.oobetet != next.oobetet {
		changed = append(changed, oobetetName)
		if next.oobetet != nil {
			d.pipe.SetComponent(oobetetName, next.oobetet.run)
		} else {
			d.pipe.SetComponent(oobetetName, nil)
		}
	}
	if prev.notifier != next.notifier {
		changed = append(changed, "notifier")
		d.pipe.SetNotifier(next.notifier)
		if next.notifier != nil && len(next.gateways) == 0 {
			d.log.Warn("no gateway is enabled: alerts are not delivered")
		}
	}
	if prev.processor != next.processor {
		changed = append(changed, "processor")
		d.pipe.SetProcessor(next.processor)
	}
	d.mu.Lock()
	d.cur = next
	if next.processor != nil {
		d.processorRan = true
	}
	d.mu.Unlock()
	return changed
}

func mergeKeys[V any](a, b map[string]V) map[string]bool {
	keys := make(map[string]bool, len(a)+len(b))
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// queueList lists the queues of the running configuration, for the metrics.
func (d *server) queueList() []metrics.Queue {
	d.mu.Lock()
	p := d.cur
	d.mu.Unlock()
	if p == nil {
		return nil
	}
	qs := []metrics.Queue{{Name: p.eventsQueue, Kind: metrics.KindEvents}}
	if q := p.jsonapi.ProcessorQueue; q != "" && *p.jsonapi.Enabled {
		qs = append(qs, metrics.Queue{Name: q, Kind: metrics.KindEvents})
	}
	qs = append(qs,
		metrics.Queue{Name: cmp.Or(p.cfg.Processor.NotifierQueue, "notifications"), Kind: metrics.KindNotifications},
		metrics.Queue{Name: cmp.Or(p.cfg.Notifier.Queue, "notifications"), Kind: metrics.KindNotifications})
	for _, name := range slices.Sorted(maps.Keys(p.gateways)) {
		q := p.gateways[name].queue
		qs = append(qs,
			metrics.Queue{Name: q, Kind: metrics.KindAlerts, Transport: name},
			metrics.Queue{Name: gateway.DeadLetterQueue(q), Kind: metrics.KindDeadLetters, Transport: name})
	}
	return qs
}

// intake is the HTTP server of [gateways.jsonapi]: the event intake, the metrics
// and the health endpoints. A reload swaps its handler when the events queue
// changes, and moves it when its address changes.
type intake struct {
	d    *server
	errc chan error // a server's failure
	// handler is what the server serves, swapped in place.
	handler atomic.Pointer[http.Handler]
	srv     *http.Server   // nil when not serving
	bind    string         // the configured address of srv
	addr    string         // the address srv listens on
	queue   string         // where srv's intake puts events
	auth    [32]byte       // the digest of the tokens the handler requires
	tls     string         // the certificate and key files srv serves with; empty for HTTP
	j       config.JSONAPI // the settings srv listens with
	// pages is the digest of the web interface's settings and of the access
	// logs the handler writes.
	pages [32]byte
	// logs are the open access logs, by path.
	logs map[string]*accesslog.File
}

func (in *intake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*in.handler.Load()).ServeHTTP(w, r)
}

// update makes the intake serve as p says; it reports whether anything changed.
// When the server cannot listen on a new address, it goes on at the old one.
func (in *intake) update(p *plan) (bool, error) {
	j := p.jsonapi
	if !*j.Enabled {
		if in.srv == nil {
			return false, nil
		}
		in.shutdown(context.Background(), 5*time.Second)
		return true, nil
	}
	changed := false
	auth := sha256.Sum256([]byte(fingerprint(j.TokensRead, j.TokensWrite)))
	var logo [32]byte
	if p.logo != nil {
		logo = sha256.Sum256(p.logo.Data)
	}
	pages := sha256.Sum256([]byte(fingerprint(p.web, logo, j.AccessLog)))
	// The access logs are opened again at every update, for log rotation.
	logs, err := in.openLogs(j.AccessLog, p.web.AccessLog)
	if err != nil {
		return false, err
	}
	if queue := cmp.Or(j.ProcessorQueue, p.eventsQueue); queue != in.queue || auth != in.auth || pages != in.pages || in.handler.Load() == nil {
		log := in.d.levels.logger("gateways.jsonapi").With("component", "intake")
		mux := http.NewServeMux()
		// The JSON:API at the root, with the event intake at /events; /metrics
		// is Prometheus unless the request accepts application/vnd.api+json.
		loc := time.UTC
		if z := p.cfg.Notifier.DefaultContactTimezone; z != "" {
			loc, _ = time.LoadLocation(z) // validated with the configuration
		}
		mux.Handle("/", api.Handler(in.d.st, api.Options{
			Log: log, EventsQueue: queue, Prometheus: in.d.metrics.Handler(), DefaultTimezone: loc,
		}))
		if w := p.web; w.On() {
			secret := []byte(w.SessionSecret)
			if len(secret) == 0 {
				secret = in.d.sessionSecret
			}
			var signOut string
			if j.AuthRequired() {
				signOut = api.WebLogoutPath
			}
			mux.Handle("/web/", web.Handler(in.d.st, web.Options{Prefix: "/web", EventsQueue: queue, Logger: log,
				AutoRefresh: w.Refresh(), SessionSecret: secret, ShowExceptions: w.ShowExceptions, Logo: p.logo, SignOutPath: signOut}))
		}
		mux.Handle("GET /healthz", metrics.Alive())
		mux.Handle("GET /readyz", in.d.ready.Handler())
		// With tokens, everything but the health endpoints and CORS
		// preflights needs one.
		h := logRequests(api.RequireTokens(j.TokensRead, j.TokensWrite, mux), logs[j.AccessLog], logs[p.web.AccessLog])
		in.handler.Store(&h)
		changed = in.queue != "" // a change, unless the first
		in.queue, in.auth, in.pages = queue, auth, pages
	}
	in.closeLogsBut(logs)
	bind := net.JoinHostPort(j.BindAddress, strconv.Itoa(j.Port))
	var tlsFiles string
	if j.TLS() {
		tlsFiles = fingerprint(j.TLSCertFile, j.TLSKeyFile)
	}
	if in.srv != nil && bind == in.bind && tlsFiles == in.tls {
		return changed, nil
	}
	old, oldJ := in.bind, in.j
	if in.srv != nil {
		in.shutdown(context.Background(), 5*time.Second)
	}
	if err := in.listen(bind, j); err != nil {
		if old == "" {
			return false, err
		}
		if rerr := in.listen(old, oldJ); rerr != nil {
			return true, errors.Join(err, rerr)
		}
		return false, err
	}
	return true, nil
}

// openLogs opens the access logs at paths (empty ones stand for none): those
// open already are opened again, for log rotation. On error it closes what it
// opened anew.
func (in *intake) openLogs(paths ...string) (map[string]*accesslog.File, error) {
	logs := map[string]*accesslog.File{}
	for _, path := range paths {
		if path == "" || logs[path] != nil {
			continue
		}
		if l := in.logs[path]; l != nil {
			if err := l.Reopen(); err != nil {
				in.d.log.Warn("access log not reopened; it goes on in the file it had", "file", path, "err", err)
			}
			logs[path] = l
			continue
		}
		l, err := accesslog.Open(path)
		if err != nil {
			for p, opened := range logs {
				if in.logs[p] == nil {
					_ = opened.Close()
				}
			}
			return nil, err
		}
		logs[path] = l
	}
	return logs, nil
}

// closeLogsBut closes the access logs the handler no longer writes and keeps
// logs.
func (in *intake) closeLogsBut(logs map[string]*accesslog.File) {
	for path, l := range in.logs {
		if logs[path] == nil {
			_ = l.Close()
		}
	}
	in.logs = logs
}

// logRequests writes the requests h serves to the access logs: those of the
// web interface to webLog, the others to apiLog; either may be nil.
func logRequests(h http.Handler, apiLog, webLog *accesslog.File) http.Handler {
	if apiLog == nil && webLog == nil {
		return h
	}
	apiH, webH := h, h
	if apiLog != nil {
		apiH = apiLog.Handler(h)
	}
	if webLog != nil {
		webH = webLog.Handler(h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/web" || strings.HasPrefix(r.URL.Path, "/web/") {
			webH.ServeHTTP(w, r)
			return
		}
		apiH.ServeHTTP(w, r)
	})
}

// listen serves on bind, over TLS when j has a certificate and key.
func (in *intake) listen(bind string, j config.JSONAPI) error {
	srv := &http.Server{Handler: in, ReadHeaderTimeout: 10 * time.Second}
	scheme, tlsFiles := "http://", ""
	if j.TLS() {
		cert, err := tls.LoadX509KeyPair(j.TLSCertFile, j.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("[gateways.jsonapi] tls_cert_file and tls_key_file: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		scheme, tlsFiles = "https://", fingerprint(j.TLSCertFile, j.TLSKeyFile)
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return err
	}
	in.srv, in.bind, in.addr, in.tls, in.j = srv, bind, ln.Addr().String(), tlsFiles, j
	in.d.log.Info("event intake listening", "address", scheme+in.addr+"/events",
		"metrics", scheme+in.addr+"/metrics", "health", scheme+in.addr+"/readyz",
		"tls", j.TLS(), "tokens", j.AuthRequired())
	go func() {
		var err error
		if srv.TLSConfig != nil {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			select {
			case in.errc <- fmt.Errorf("event intake: %w", err):
			default:
			}
		}
	}()
	return nil
}

// shutdown stops the server, letting requests in flight finish for up to timeout.
func (in *intake) shutdown(ctx context.Context, timeout time.Duration) {
	if in.srv == nil {
		return
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_ = in.srv.Shutdown(sctx)
	in.srv, in.bind, in.addr, in.tls = nil, "", "", ""
}

// openStore opens the store the configuration names: Redis when it has a [redis]
// table, else memory. Redis that cannot be used is an exit status 2, with every
// password left out of the message.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (store.Store, error) {
	r := cfg.Redis
	if r == nil {
		log.Info("using the in-memory store")
		return memory.New(), nil
	}
	opts, err := r.Options()
	if err != nil { // caught when the configuration was read, unless built in code
		return nil, &exitError{code: 2, err: fmt.Errorf("%s: [redis] %w", cfg.Where("redis"), err)}
	}
	opts.Logger = log.With("component", "store")
	st, err := redisstore.New(ctx, opts)
	if err != nil {
		return nil, &exitError{code: 2, err: fmt.Errorf("%s: [redis] cannot use %s: %s",
			cfg.Where("redis"), r.Redacted(), r.Scrub(err.Error()))}
	}
	log.Info("using the Redis store", "url", r.Redacted(), "prefix", opts.Prefix, "consumer", st.ConsumerID())
	return st, nil
}

// statisticsInstance names this process's statistics, as Flapjack v2 does:
// "<hostname>:<pid>".
func statisticsInstance() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

//go:embed default_setup.yaml
var defaultSetup []byte

// loadSetup reads the set-up data file, or the embedded default's when path is empty.
func loadSetup(path string) (*setup.Data, error) {
	if path == "" {
		return setup.Parse(defaultSetup, "embedded default set-up")
	}
	return setup.Load(path)
}

// applyTemplates takes the gateway's "templates" table out of table and makes
// the texts of the files it names replace those built-in templates in t.
func applyTemplates(cfg *config.Config, name string, table map[string]any, t *gateway.Templates) error {
	texts, err := readTemplates(cfg, name, table)
	if err != nil {
		return err
	}
	for _, key := range slices.Sorted(maps.Keys(texts)) {
		if err := t.Override(name, key, texts[key]); err != nil {
			return fmt.Errorf("[gateways.%s.templates] %w", name, err)
		}
	}
	return nil
}

// readTemplates takes the gateway's "templates" table out of table and reads
// the files it names: each key such as "alert.text" names a file whose text
// replaces that built-in template. It returns the texts by key.
func readTemplates(cfg *config.Config, name string, table map[string]any) (map[string]string, error) {
	raw, ok := table["templates"]
	if !ok {
		return nil, nil
	}
	delete(table, "templates")
	files, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("[gateways.%s.templates] must be a table of \"<name>.<format>\" = \"file\"", name)
	}
	texts := make(map[string]string, len(files))
	for _, key := range slices.Sorted(maps.Keys(files)) {
		path, ok := files[key].(string)
		if !ok {
			return nil, fmt.Errorf("[gateways.%s.templates] %q must name a file", name, key)
		}
		if !filepath.IsAbs(path) && cfg.Path != "" {
			path = filepath.Join(filepath.Dir(cfg.Path), path)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("[gateways.%s.templates] %q: %w", name, key, err)
		}
		texts[key] = string(text)
	}
	return texts, nil
}

// takeDeliveryTable takes the gateway's "delivery" table out of table.
func takeDeliveryTable(name string, table map[string]any) (map[string]any, error) {
	raw, ok := table["delivery"]
	if !ok {
		return nil, nil
	}
	delete(table, "delivery")
	t, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("[gateways.%s.delivery] must be a table", name)
	}
	return t, nil
}

// deliveryOptions applies the user's delivery table (workers, retries, rate
// limit) over the gateway's defaults.
func deliveryOptions(name string, defaults gateway.DeliveryConfig, table map[string]any) (gateway.DeliveryOptions, error) {
	c := defaults
	if table != nil {
		if err := gateway.MapConfig(table).Decode(&c); err != nil {
			return gateway.DeliveryOptions{}, fmt.Errorf("[gateways.%s.delivery] %w", name, err)
		}
	}
	o, err := c.Options()
	if err != nil {
		return gateway.DeliveryOptions{}, fmt.Errorf("[gateways.%s.delivery] %w", name, err)
	}
	return o, nil
}

// ackPoller builds PagerDuty's acknowledgement poller from the gateway's table,
// or returns nil when ack_polling is off.
func ackPoller(cfg *config.Config, st store.Store, table map[string]any, env gateway.Env, log *slog.Logger) (*pagerduty.AckPoller, error) {
	var pd pagerduty.Config
	if err := gateway.MapConfig(table).Decode(&pd); err != nil {
		return nil, err
	}
	if !pd.PollsAcks() {
		return nil, nil
	}
	o, err := pd.AckPollerOptions()
	if err != nil {
		return nil, err
	}
	o.Clock, o.HTTPClient = env.Clock, env.HTTPClient
	o.Logger = log.With("component", "pagerduty_ack_poller")
	loc := time.UTC
	if z := cfg.Notifier.DefaultContactTimezone; z != "" {
		loc, _ = time.LoadLocation(z) // validated with the configuration
	}
	o.Router = &notifier.Router{DefaultTimezone: loc}
	if _, set := table["processor_queue"]; !set {
		o.Queue = cfg.Processor.Queue
		if o.Queue == "" {
			o.Queue = "events"
		}
	}
	as, ok := st.(pagerduty.AckStore)
	if !ok {
		return nil, fmt.Errorf("the store cannot hold the acknowledgement poller's lease")
	}
	return pagerduty.NewAckPoller(as, o)
}

// sharedFrom takes the keys every gateway table shares out of table into g.
func sharedFrom(table map[string]any, g *config.Gateway) {
	if v, ok := table["enabled"].(bool); ok {
		g.Enabled = v
	}
	if v, ok := table["queue"].(string); ok {
		g.Queue = v
	}
	if v, ok := table["log_level"].(string); ok {
		g.LogLevel = v
	}
	delete(table, "enabled")
	delete(table, "queue")
	delete(table, "log_level")
}

func processorSettings(cfg *config.Config) (processor.Settings, error) {
	ncsm, err := cfg.NewCheckMaintenance()
	if err != nil {
		return processor.Settings{}, err
	}
	ps := processor.Settings{
		InitialFailureDelay:          cfg.Processor.InitialFailureDelay,
		RepeatFailureDelay:           cfg.Processor.RepeatFailureDelay,
		InitialRecoveryDelay:         cfg.Processor.InitialRecoveryDelay,
		NewCheckScheduledMaintenance: ncsm,
	}
	if r := cfg.Processor.NewCheckScheduledMaintenanceIgnoreRegex; r != "" {
		re, err := regexp.Compile(r)
		if err != nil {
			return ps, err
		}
		ps.NewCheckScheduledMaintenanceIgnore = re
	}
	return ps, nil
}
