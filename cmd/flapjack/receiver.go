package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/x/flapjack"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/receiver"
)

const receiverDestination = `Events go where the configuration says: onto the events list of the Redis
store when it has a [redis] table (the [processor] queue, "events" by default,
or --queue), else to the HTTP event intake of a running daemon (POST /events at
the address of [gateways.jsonapi], http://127.0.0.1:3081 by default). --intake
sends them to an intake even when the configuration has a [redis] table.

Unlike Flapjack v2's producers, they push no "+" onto "<queue>_actions":
Flapjack for Go does not need it. Feeding Flapjack v2 (Ruby) processors, give
the [redis] server as url with "?wake_tokens=true" to push it too, in the same
transaction as the event.`

func newReceiverCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "receiver",
		Short: "Feed Flapjack from Nagios, NSCA, JSON streams, HTTP submissions or the command line",
		Long: `Receivers turn what monitoring systems write into Flapjack events:

  nagios       Nagios host and service performance data, from a named pipe
  nsca         Nagios external commands (check results), from a named pipe
  json         a stream of JSON events, from a file or standard input
  httpbroker   HTTP submissions (Flapjack events, New Relic, AWS SNS), re-sent
               as a heartbeat
  oneoff       one event from the command line

` + receiverDestination,
		Args: cobra.NoArgs,
	}
	cmd.PersistentFlags().String("intake", "", "send events to this HTTP event intake (such as http://127.0.0.1:3081) instead of where the configuration says")
	cmd.PersistentFlags().String("queue", "", `the Redis list to push events onto (needs a [redis] table); default the [processor] queue, else "events"`)
	cmd.AddCommand(
		newFIFOReceiverCmd("nagios", "Send Nagios performance data from a named pipe", nagiosReceiverHelp,
			receiver.ParseNagiosLine, (*config.Config).NagiosFIFO),
		newFIFOReceiverCmd("nsca", "Send check results from Nagios' command file (NSCA)", nscaReceiverHelp,
			receiver.ParseNSCALine, (*config.Config).NSCAFIFO),
		newJSONReceiverCmd(),
		newHTTPBrokerCmd(),
		newOneoffCmd(),
	)
	return cmd
}

// eventDestination opens where a receiver's events go, as receiverDestination
// says; what names the receiver. It returns the sender, a function releasing
// it, and a description for the log.
func eventDestination(cmd *cobra.Command, cfg *config.Config, what string) (receiver.Sender, func(), string, error) {
	intake, _ := cmd.Flags().GetString("intake")
	queue, _ := cmd.Flags().GetString("queue")
	if intake == "" && cfg.Redis != nil {
		st, err := openSharedStore(cmd, what)
		if err != nil {
			return nil, nil, "", err
		}
		if queue == "" {
			queue = cmp.Or(cfg.Processor.Queue, "events")
		}
		return receiver.NewQueueSender(st.Queue(queue)), func() { st.Close() },
			fmt.Sprintf("redis list %q at %s", queue, cfg.Redis.Redacted()), nil
	}
	if queue != "" {
		return nil, nil, "", usageError(errors.New(`--queue names a Redis list, which needs a [redis] table; the HTTP intake chooses its queue itself`))
	}
	var client *http.Client
	if intake == "" {
		var j config.JSONAPI
		var err error
		if intake, j, err = configuredIntake(cfg); err != nil {
			return nil, nil, "", usageError(err)
		}
		client = intakeClient(j, receiver.DefaultHTTPTimeout)
	}
	s, err := receiver.NewHTTPSender(intake, client)
	if err != nil {
		return nil, nil, "", usageError(fmt.Errorf("--intake: %w", err))
	}
	return s, func() {}, s.URL(), nil
}

var nagiosReceiverHelp = `Reads host and service performance data from the named pipe Nagios writes it
to, and sends each line as an event. Nagios must be set up with
enable_notifications=0 (Flapjack alerts instead), process_performance_data=1,
process_perf_data on every host and service, the pipe as perfdata file
(created with "mkfifo -m 0666 PATH"), and exactly these templates (fields
separated by tabs; an optional tenth field $LONGSERVICEOUTPUT$ is sent as
details):

  host_perfdata_file=PATH
  host_perfdata_file_template=` + tabsShown(receiver.NagiosHostTemplate) + `
  service_perfdata_file=PATH
  service_perfdata_file_template=` + tabsShown(receiver.NagiosServiceTemplate) + `
  host_perfdata_file_mode=p
  service_perfdata_file_mode=p

The event of a line is entity <host>, check <service> (HOST for a host
check), state ok, warning, critical or unknown (a host UP is ok, DOWN and
UNREACHABLE are critical). Lines that do not fit are logged and skipped.

The pipe is --fifo, else [nagios-receiver] fifo, else ` + config.DefaultNagiosFIFO + `.
When Nagios closes it, the receiver waits --reopen-delay and opens it again,
until interrupted (SIGINT or SIGTERM); it keeps the pipe open meanwhile, so
that Nagios never finds it without a reader. Exits 1 when the pipe is missing,
is not a named pipe or may not be read.`

const nscaReceiverHelp = `Reads Nagios external commands from a named pipe, such as Nagios' command
file fed by NSCA, and sends each check result as an event:

  [<Unix time>] PROCESS_SERVICE_CHECK_RESULT;<host>;<service>;<return code>;<output>
  [<Unix time>] PROCESS_HOST_CHECK_RESULT;<host>;<return code>;<output>

A service's return code 0 is ok, 1 warning, 2 critical, 3 unknown; a host's 0
(up) is ok, 1 (down) and 2 (unreachable) are critical, for the check HOST.
The output's first line is the summary (the text after "|" is perfdata), the
lines after it the details. Other commands are skipped (logged at debug
level); malformed lines are logged and skipped.

The pipe is --fifo, else [nsca-receiver] fifo, else ` + config.DefaultNSCAFIFO + `.
When its writer closes it, the receiver waits --reopen-delay and opens it
again, until interrupted (SIGINT or SIGTERM); it keeps the pipe open
meanwhile, so that writers never find it without a reader, and what they
write waits in the pipe. NSCA opens the pipe for every result: give it a short
--reopen-delay, such as 100ms. Exits 1 when the pipe is missing, is not a
named pipe or may not be read.`

// tabsShown writes a template's tabs as Nagios' configuration does: \t.
func tabsShown(template string) string { return strings.ReplaceAll(template, "\t", `\t`) }

// newFIFOReceiverCmd builds "receiver nagios" and "receiver nsca".
func newFIFOReceiverCmd(name, short, long string, parse func(string) (flapjack.Event, error), configured func(*config.Config) string) *cobra.Command {
	var (
		fifo   string
		reopen time.Duration
	)
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Long:  long + "\n\n" + receiverDestination,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if fifo == "" {
				fifo = configured(cfg)
			}
			log := newLogger(cfg.Logger, cmd.ErrOrStderr()).With("component", name+"-receiver")
			f := &receiver.FIFO{Path: fifo, ReopenDelay: reopen, Logger: log}
			if err := f.Check(); err != nil {
				return &exitError{code: 1, err: err}
			}
			sender, release, dest, err := eventDestination(cmd, cfg, "receiver "+name)
			if err != nil {
				return err
			}
			defer release()
			lines := &receiver.LineReceiver{Parse: parse, Sender: sender, Logger: log}
			log.Info(name+" receiver started", "fifo", fifo, "destination", dest)
			err = f.Run(cmd.Context(), lines.Line)
			c := lines.Counts()
			log.Info("shutting down", "sent", c.Sent, "rejected", c.Rejected, "failed", c.Failed)
			if err != nil {
				return &exitError{code: 1, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&fifo, "fifo", "f", "", "the named pipe to read; default ["+name+"-receiver] fifo, else "+configured(config.Default()))
	cmd.Flags().DurationVar(&reopen, "reopen-delay", receiver.DefaultReopenDelay, "how long to wait before opening the pipe again after its writer closed it or reading failed")
	return cmd
}

// noStdinMessage is Flapjack v2's refusal to read events typed at a terminal.
const noStdinMessage = "No file provided, and STDIN is from terminal! Exiting..."

func newJSONReceiverCmd() *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "json",
		Short: "Send a stream of JSON events from a file or standard input",
		Long: `Reads any number of JSON events, one after another (on lines of their own, or
spread over several, or back to back), from --from or standard input, and
sends each valid one, printing

  Enqueued event data, <event>

or, for an invalid one, which is not sent,

  Invalid event data received, <problems> <event>

then "Done." at the end. A JSON syntax error stops it with exit status 1 and
the parser's message, as does an event that cannot be sent; events before it
have been sent. SIGINT or SIGTERM ends a stream that does not end by itself
(such as a pipe from "tail -f"). Refuses to read a terminal
("` + noStdinMessage + `", exit status 1).

` + receiverDestination,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			in := cmd.InOrStdin()
			if from != "" {
				f, err := os.Open(from)
				if err != nil {
					return &exitError{code: 1, err: err}
				}
				defer f.Close()
				in = f
			} else if isTerminal(in) {
				fmt.Fprintln(cmd.ErrOrStderr(), noStdinMessage)
				return &exitError{code: 1}
			}
			sender, release, _, err := eventDestination(cmd, cfg, "receiver json")
			if err != nil {
				return err
			}
			defer release()
			return sendJSONStream(cmd.Context(), in, cmd.OutOrStdout(), sender)
		},
	}
	cmd.Flags().StringVarP(&from, "from", "f", "", "the file to read; default standard input")
	return cmd
}

// sendJSONStream sends every valid event of in, reporting each on out, until
// in ends or ctx does: a stream from a pipe that stays open ends with SIGINT or
// SIGTERM, as the daemon does. A send under way then is finished.
func sendJSONStream(ctx context.Context, in io.Reader, out io.Writer, sender receiver.Sender) error {
	type value struct {
		raw []byte
		err error
	}
	// A read cannot be interrupted: it happens aside, and is left to the end of
	// the process when ctx ends first.
	values := make(chan value)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		stream := receiver.NewJSONStream(in)
		for {
			raw, err := stream.Next()
			select {
			case values <- value{raw, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	sendCtx := context.WithoutCancel(ctx)
	for {
		var v value
		select {
		case <-ctx.Done():
			fmt.Fprintln(out, "Done.")
			return nil
		case v = <-values:
		}
		if v.err == io.EOF {
			break
		}
		if v.err != nil {
			return &exitError{code: 1, err: v.err}
		}
		shown := v.raw
		var compact bytes.Buffer
		if json.Compact(&compact, v.raw) == nil {
			shown = compact.Bytes() // one line per event
		}
		ev, err := flapjack.ParseEvent(v.raw)
		if err != nil {
			fmt.Fprintf(out, "Invalid event data received, %s %s\n", eventProblems(err), shown)
			continue
		}
		if err := sender.Send(sendCtx, ev); err != nil {
			return &exitError{code: 1, err: fmt.Errorf("event not sent: %w: %s", err, shown)}
		}
		fmt.Fprintf(out, "Enqueued event data, %s\n", shown)
	}
	fmt.Fprintln(out, "Done.")
	return nil
}

// eventProblems is an invalid event's error without its generic prefix.
func eventProblems(err error) string {
	return strings.TrimPrefix(err.Error(), flapjack.ErrInvalidEvent.Error()+": ")
}

// isTerminal reports whether r is a terminal: a character device other than
// the null device.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err != nil || !os.SameFile(fi, null)
}

func newHTTPBrokerCmd() *cobra.Command {
	var (
		bind     string
		port     int
		interval time.Duration
	)
	defaultPort, envErr := 3090, error(nil)
	if p := os.Getenv("PORT"); p != "" {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65536 {
			defaultPort = n
		} else {
			envErr = fmt.Errorf("PORT=%q is not a port number; give --port", p)
		}
	}
	cmd := &cobra.Command{
		Use:   "httpbroker",
		Short: "Turn HTTP submissions (Flapjack events, New Relic, AWS SNS) into a heartbeat of events",
		Long: `Serves, on --bind and --port:

  POST /state   a submission: a Flapjack event with "entity" and an optional
                "ttl" in seconds (default 300); a New Relic alert webhook; or
                an AWS SNS message with a CloudWatch alarm (a subscription
                confirmation is confirmed by fetching its SubscribeURL).
                Answers "Caching state: <state>", or 400 saying what is wrong.
  GET /state    every cached state, as JSON keyed by "<entity>:<check>".

Every --interval it sends every cached state as an event with the current
time; once a state is older than its ttl it is sent as UNKNOWN with the summary
"httpbroker: Cached state is stale (<age>s old, should be < <ttl>s)". A
negative ttl never goes stale. The latest submission for an entity and check
replaces the one before; the cache is lost when the broker stops. Runs until
interrupted (SIGINT or SIGTERM).

` + receiverDestination,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if envErr != nil && !cmd.Flags().Changed("port") {
				return usageError(envErr)
			}
			if port < 1 || port > 65535 {
				return usageError(fmt.Errorf("--port %d is not between 1 and 65535", port))
			}
			if interval <= 0 {
				return usageError(fmt.Errorf("--interval %s must be positive", interval))
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			log := newLogger(cfg.Logger, cmd.ErrOrStderr()).With("component", "httpbroker")
			sender, release, dest, err := eventDestination(cmd, cfg, "receiver httpbroker")
			if err != nil {
				return err
			}
			defer release()
			return runHTTPBroker(cmd.Context(), net.JoinHostPort(bind, strconv.Itoa(port)), interval, sender, dest, log)
		},
	}
	cmd.Flags().StringVar(&bind, "bind", "", "the address to listen on; default every interface")
	cmd.Flags().IntVar(&port, "port", defaultPort, "the port to listen on; the environment variable PORT, when set, changes the default")
	cmd.Flags().DurationVar(&interval, "interval", receiver.DefaultBrokerInterval, "how often to send every cached state")
	return cmd
}

func runHTTPBroker(ctx context.Context, addr string, interval time.Duration, sender receiver.Sender, dest string, log *slog.Logger) error {
	b := receiver.NewBroker(receiver.BrokerOptions{Sender: sender, Interval: interval, Logger: log})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("httpbroker: %w", err)}
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- b.Run(ctx) }()
	log.Info("httpbroker listening", "address", "http://"+ln.Addr().String()+"/state", "interval", interval, "destination", dest)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-served:
		runErr = &exitError{code: 1, err: fmt.Errorf("httpbroker: %w", err)}
	}
	log.Info("shutting down")
	sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = srv.Shutdown(sctx)
	scancel()
	cancel()
	<-ran
	return runErr
}

func newOneoffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "oneoff ENTITY CHECK STATE SUMMARY",
		Short: "Send one event",
		Long: `Sends one event about the check CHECK of ENTITY, with the time of now. STATE
is ok, warning, critical or unknown (any case; also acknowledgement or
test_notifications). All four arguments are required and must not be empty.
Exits 1 when the event cannot be sent.

` + receiverDestination,
		Args: cobra.ExactArgs(4),
		RunE: func(cmd *cobra.Command, args []string) error {
			for i, name := range []string{"ENTITY", "CHECK", "STATE", "SUMMARY"} {
				if strings.TrimSpace(args[i]) == "" {
					return fmt.Errorf("%s is empty", name)
				}
			}
			ev := flapjack.Event{Entity: args[0], Check: args[1], State: args[2], Summary: args[3], Time: time.Now().Unix()}
			if err := ev.Validate(); err != nil {
				return err
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			sender, release, _, err := eventDestination(cmd, cfg, "receiver oneoff")
			if err != nil {
				return err
			}
			defer release()
			if err := sender.Send(cmd.Context(), ev); err != nil {
				return &exitError{code: 1, err: fmt.Errorf("event not sent: %w", err)}
			}
			return nil
		},
	}
}
