package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lmittmann/tint"
	"github.com/spf13/cobra"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/gateway"
	_ "github.com/x/flapjack/gateway/aspsms"     // the "sms_aspsms" transport
	_ "github.com/x/flapjack/gateway/email"      // the "email" transport
	_ "github.com/x/flapjack/gateway/logalert"   // the "log" transport
	_ "github.com/x/flapjack/gateway/messagenet" // the "sms" transport (MessageNet)
	_ "github.com/x/flapjack/gateway/nexmo"      // the "sms_nexmo" transport
	"github.com/x/flapjack/gateway/pagerduty"
	_ "github.com/x/flapjack/gateway/slack"   // the "slack" transport
	_ "github.com/x/flapjack/gateway/sns"     // the "sns" transport
	_ "github.com/x/flapjack/gateway/threema" // the "threema" transport
	_ "github.com/x/flapjack/gateway/twilio"  // the "sms_twilio" transport
	_ "github.com/x/flapjack/gateway/webhook" // the "webhook" transport
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/processor"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
	redisstore "github.com/x/flapjack/store/redis"
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

With a [redis] table in the configuration every component runs on Redis
instead, and Flapjack's producers (Nagios flapjackfeeder, oneoff, httpbroker)
feed it by pushing events onto the "events" list.

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

// newLogger builds the daemon's logger: coloured text on a terminal, JSON otherwise.
func newLogger(c config.Logger, w io.Writer) *slog.Logger {
	var level slog.Level
	switch strings.ToLower(c.Level) {
	case "debug":
		level = slog.LevelDebug
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	format := c.Format
	if format == "" || format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(tint.NewHandler(w, &tint.Options{Level: level, TimeFormat: time.DateTime}))
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// serve runs the daemon until ctx ends. ready, when not nil, receives the intake's
// address once it listens.
func serve(ctx context.Context, cfg *config.Config, logw io.Writer, ready chan<- string) error {
	log := newLogger(cfg.Logger, logw)
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

	if f := cfg.SetupFile(); f != "" || cfg.Path == "" {
		data, err := loadSetup(f)
		if err != nil {
			if se := (*setup.Error)(nil); !errors.As(err, &se) {
				// Say which setting named the file that cannot be read.
				err = fmt.Errorf("%s: [setup] file: %w", cfg.Where("setup.file"), err)
			}
			return &exitError{code: 2, err: err}
		}
		if f == "" {
			f = "embedded default"
		}
		if err := data.Apply(ctx, st); err != nil {
			return err
		}
		log.Info("set-up data loaded", "file", f, "checks", len(data.Checks), "contacts", len(data.Contacts))
	}

	popts := pipeline.Options{
		Logger:            log.With("component", "delivery"),
		TransportQueues:   map[string]string{},
		TransportDelivery: map[string]gateway.DeliveryOptions{},
	}
	env := gateway.Env{Logger: log, Clock: flapjack.SystemClock{}, Templates: gateway.DefaultTemplates()}.WithDefaults()
	popts.Gateways = map[string]gateway.Gateway{}
	for _, name := range slices.Sorted(maps.Keys(cfg.Gateways)) {
		if name == "jsonapi" {
			continue
		}
		var shared config.Gateway
		table := maps.Clone(cfg.Gateways[name])
		sharedFrom(table, &shared)
		if !shared.Enabled {
			continue
		}
		if err := applyTemplates(cfg, name, table, env.Templates); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("%s: %w", cfg.Where("gateways."+name+".templates"), err)}
		}
		var defaults gateway.DeliveryConfig
		dtable, err := takeDeliveryTable(name, table)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("%s: %w", cfg.Where("gateways."+name+".delivery"), err)}
		}
		genv := env
		genv.Logger = log.With("component", "gateway")
		g, err := gateway.New(name, gateway.MapConfig(table), genv)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("%s: [gateways.%s] %w", cfg.Where("gateways."+name), name, err)}
		}
		if d, ok := g.(gateway.DeliveryDefaulter); ok {
			defaults = d.DeliveryDefaults()
		}
		dopts, err := deliveryOptions(name, defaults, dtable)
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("%s: %w", cfg.Where("gateways."+name+".delivery"), err)}
		}
		dopts.Logger, dopts.Clock = popts.Logger, env.Clock
		popts.TransportDelivery[name] = dopts
		if name == pagerduty.Transport {
			poller, err := ackPoller(cfg, st, table, env, log)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("%s: [gateways.%s] %w", cfg.Where("gateways."+name), name, err)}
			}
			if poller != nil {
				popts.Components = map[string]func(context.Context) error{"pagerduty acknowledgement poller": poller.Run}
			}
		}
		popts.Gateways[name] = g
		queue := shared.Queue
		if queue == "" {
			queue = notifier.TransportQueue(name)
		}
		popts.TransportQueues[name] = queue
	}

	eventsQueue := cfg.Processor.Queue
	if eventsQueue == "" {
		eventsQueue = "events"
	}
	instance := statisticsInstance()
	if cfg.ProcessorEnabled() {
		ps, err := processorSettings(cfg)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		popts.Processor = processor.New(st, processor.Options{
			Settings: ps, Queue: eventsQueue, NotifierQueue: cfg.Processor.NotifierQueue,
			Logger: log.With("component", "processor"), Instance: instance,
		})
	}
	if cfg.NotifierEnabled() {
		var loc *time.Location
		if z := cfg.Notifier.DefaultContactTimezone; z != "" {
			loc, _ = time.LoadLocation(z) // validated with the configuration
		}
		popts.Notifier = notifier.New(st, notifier.Options{
			Queue: cfg.Notifier.Queue, TransportQueues: popts.TransportQueues,
			DefaultContactTimezone: loc, Logger: log.With("component", "notifier"),
		})
		if len(popts.Gateways) == 0 {
			log.Warn("no gateway is enabled: alerts are not delivered")
		}
	}

	jcfg, err := cfg.JSONAPI()
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1) // the intake's failure
	var srv *http.Server
	if *jcfg.Enabled {
		q := jcfg.ProcessorQueue
		if q == "" {
			q = eventsQueue
		}
		mux := http.NewServeMux()
		mux.Handle("/events", api.EventsHandler(st.Queue(q), log.With("component", "intake")))
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
		ln, err := net.Listen("tcp", net.JoinHostPort(jcfg.BindAddress, strconv.Itoa(jcfg.Port)))
		if err != nil {
			return fmt.Errorf("event intake: %w", err)
		}
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		log.Info("event intake listening", "address", "http://"+ln.Addr().String()+"/events")
		if ready != nil {
			ready <- ln.Addr().String()
		}
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("event intake: %w", err)
			}
		}()
	}

	p := pipeline.New(st, popts)
	pipeDone := make(chan error, 1)
	go func() { pipeDone <- p.Run(ctx) }()
	log.Info("flapjack started", "version", version,
		"processor", popts.Processor != nil, "notifier", popts.Notifier != nil,
		"gateways", slices.Sorted(maps.Keys(popts.Gateways)))

	var runErr error
	pipeStopped := false
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	case runErr = <-pipeDone:
		pipeStopped = true
	}
	log.Info("shutting down")
	if srv != nil {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		_ = srv.Shutdown(sctx)
		scancel()
	}
	cancel()
	if !pipeStopped {
		if err := <-pipeDone; runErr == nil {
			runErr = err
		}
	}
	if popts.Processor != nil {
		// This process's statistics go with it; the global counters stay.
		dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		if err := st.DeleteStatistics(dctx, instance); err != nil {
			log.Warn("statistics of this instance not removed", "instance", instance, "err", err)
		}
		dcancel()
	}
	return runErr
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

// applyTemplates takes the gateway's "templates" table out of table: each key such
// as "alert.text" names a file whose text replaces that built-in template.
func applyTemplates(cfg *config.Config, name string, table map[string]any, t *gateway.Templates) error {
	raw, ok := table["templates"]
	if !ok {
		return nil
	}
	delete(table, "templates")
	files, ok := raw.(map[string]any)
	if !ok {
		return fmt.Errorf("[gateways.%s.templates] must be a table of \"<name>.<format>\" = \"file\"", name)
	}
	for _, key := range slices.Sorted(maps.Keys(files)) {
		path, ok := files[key].(string)
		if !ok {
			return fmt.Errorf("[gateways.%s.templates] %q must name a file", name, key)
		}
		if !filepath.IsAbs(path) && cfg.Path != "" {
			path = filepath.Join(filepath.Dir(cfg.Path), path)
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("[gateways.%s.templates] %q: %w", name, key, err)
		}
		if err := t.Override(name, key, string(text)); err != nil {
			return fmt.Errorf("[gateways.%s.templates] %w", name, err)
		}
	}
	return nil
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
	delete(table, "enabled")
	delete(table, "queue")
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
