package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/x/flapjack"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/receiver"
)

// simulatedSummary is the summary of every simulated event, as in Flapjack v2.
const simulatedSummary = "Simulated check output (test by operator)"

// simulateFlags are the flags every "simulate" command shares.
type simulateFlags struct {
	minutes, seconds float64
	check, state     string
	tags             []string
	intake           string
}

func newSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Send a stream of made-up check results, to try alerting out",
		Long: `Sends a made-up check result for one check every --interval seconds for
--time minutes, printing a line for each, then "<time>: stopping".

The events go onto the events queue of the Redis store when the configuration
has a [redis] table, else to the HTTP event intake of a running daemon
(POST /events, at the address of [gateways.jsonapi]: http://127.0.0.1:3081 by
default). --intake sends them to another intake, with or without Redis.

Each event names the check alone (no entity) and carries the summary
"` + simulatedSummary + `".`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(
		newSimulateModeCmd("fail", "Send failing results", true, false),
		newSimulateModeCmd("ok", "Send ok results", false, false),
		newSimulateModeCmd("fail_and_recover", "Send failing results, then one ok result", true, true),
	)
	return cmd
}

func newSimulateModeCmd(name, short string, failing, recover bool) *cobra.Command {
	var f simulateFlags
	cmd := &cobra.Command{
		Use:     name,
		Short:   short,
		Example: "  flapjack simulate " + name + " -k web-01:HTTP -t 2 -i 10",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			state := "ok"
			if failing {
				c, err := flapjack.ParseCondition(f.state)
				if err != nil || !c.Unhealthy() {
					return usageError(fmt.Errorf("--state %q: want critical, warning or unknown", f.state))
				}
				state = string(c)
			}
			switch {
			case f.check == "":
				return usageError(errors.New("--check: name the check"))
			case f.minutes < 0:
				return usageError(fmt.Errorf("--time %g: want 0 minutes or more", f.minutes))
			case f.seconds <= 0:
				return usageError(fmt.Errorf("--interval %g: want more than 0 seconds", f.seconds))
			}
			send, closeSend, err := eventSender(cmd, f.intake)
			if err != nil {
				return err
			}
			defer closeSend()
			sim := simulation{
				check: f.check, state: state, recover: recover,
				duration: time.Duration(f.minutes * float64(time.Minute)),
				interval: time.Duration(f.seconds * float64(time.Second)),
				send:     send, out: cmd.OutOrStdout(), clock: flapjack.SystemClock{}, after: time.After,
			}
			return sim.run(cmd.Context())
		},
	}
	switch {
	case failing && recover:
		cmd.Long = `Sends a failing result for the check every --interval seconds for --time
minutes, then one ok result ("sending recovery event for <check>").`
	case failing:
		cmd.Long = `Sends a failing result for the check every --interval seconds for --time
minutes: "<time>: sending failure event (<state>) for <check>" each time.`
	default:
		cmd.Long = `Sends an ok result for the check every --interval seconds for --time minutes.`
	}
	cmd.Long += "\n\nSee \"flapjack simulate --help\" for where the events go."
	fl := cmd.Flags()
	fl.Float64VarP(&f.minutes, "time", "t", 0.75, "how long to go on sending, in minutes (decimals allowed)")
	fl.Float64VarP(&f.seconds, "interval", "i", 10, "the time between two events, in seconds (decimals allowed)")
	fl.StringVarP(&f.check, "check", "k", "HTTP", "the check's name, such as web-01:HTTP")
	if failing {
		fl.StringVarP(&f.state, "state", "s", "critical", "the failing condition: critical, warning or unknown")
		_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"critical", "warning", "unknown"}, cobra.ShellCompDirectiveNoFileComp))
	}
	fl.StringSliceVarP(&f.tags, "tags", "T", nil, "accepted for Flapjack v2's sake and ignored: a check's tags are set on the check")
	fl.StringVar(&f.intake, "intake", "", "the event intake to POST to, such as http://127.0.0.1:3081/events (default: Redis when configured, else [gateways.jsonapi]'s intake)")
	return cmd
}

// simulation sends one check's events on a schedule.
type simulation struct {
	check, state       string // state of the stream's events
	recover            bool   // end with one ok event
	duration, interval time.Duration
	send               func(context.Context, flapjack.Event) error
	out                io.Writer
	clock              flapjack.Clock
	after              func(time.Duration) <-chan time.Time
}

// run sends an event at once and then every interval until duration has
// passed since the first, as Flapjack v2 did; then, to recover, one ok event.
// An interruption stops it between two events, without recovery.
func (s *simulation) run(ctx context.Context) error {
	start := s.clock.Now()
	for {
		now := s.clock.Now()
		if s.state == "ok" {
			fmt.Fprintf(s.out, "%s: sending ok event for %s\n", now.Format(v2TimeLayout), s.check)
		} else {
			fmt.Fprintf(s.out, "%s: sending failure event (%s) for %s\n", now.Format(v2TimeLayout), s.state, s.check)
		}
		if err := s.event(ctx, s.state); err != nil {
			if ctx.Err() != nil {
				break // interrupted while sending
			}
			return err
		}
		if s.clock.Now().Sub(start) >= s.duration {
			break
		}
		select {
		case <-ctx.Done():
		case <-s.after(s.interval):
		}
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(s.out, "%s: interrupted, stopping\n", s.clock.Now().Format(v2TimeLayout))
		return nil
	}
	fmt.Fprintf(s.out, "%s: stopping\n", s.clock.Now().Format(v2TimeLayout))
	if s.recover {
		fmt.Fprintf(s.out, "sending recovery event for %s\n", s.check)
		return s.event(ctx, "ok")
	}
	return nil
}

func (s *simulation) event(ctx context.Context, state string) error {
	ev := flapjack.Event{Check: s.check, State: state, Summary: simulatedSummary, Time: s.clock.Now().Unix()}
	if err := s.send(ctx, ev); err != nil {
		return fmt.Errorf("send %s event for %s: %w", state, s.check, err)
	}
	return nil
}

// eventSender picks where simulated events go: the intake given, else the
// configured Redis store's events queue, else the configured intake.
func eventSender(cmd *cobra.Command, intake string) (send func(context.Context, flapjack.Event) error, closeFn func(), err error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, nil, err
	}
	if intake == "" && cfg.Redis != nil {
		st, err := openSharedStore(cmd, "simulate")
		if err != nil {
			return nil, nil, err
		}
		queue := cfg.Processor.Queue
		if queue == "" {
			queue = "events"
		}
		return receiver.NewQueueSender(st.Queue(queue)).Send, func() { st.Close() }, nil
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if intake == "" {
		var j config.JSONAPI
		if intake, j, err = configuredIntake(cfg); err != nil {
			return nil, nil, usageError(err)
		}
		client = intakeClient(j, 10*time.Second)
	}
	u, err := intakeURL(intake)
	if err != nil {
		return nil, nil, usageError(err)
	}
	hs, err := receiver.NewHTTPSender(u, client)
	if err != nil {
		return nil, nil, usageError(err)
	}
	return hs.Send, func() {}, nil
}

// configuredIntake is the URL of the intake [gateways.jsonapi] configures, and
// that table.
func configuredIntake(cfg *config.Config) (string, config.JSONAPI, error) {
	j, err := cfg.JSONAPI()
	if err != nil {
		return "", j, fmt.Errorf("%s: [gateways.jsonapi] %w", cfg.Where("gateways.jsonapi"), err)
	}
	if !*j.Enabled {
		return "", j, fmt.Errorf("%s has no [redis] table and no event intake ([gateways.jsonapi]); give --intake URL", cfg.Path)
	}
	host := j.BindAddress
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening everywhere, so also here
	}
	scheme := "http://"
	if j.TLS() {
		scheme = "https://"
	}
	return scheme + net.JoinHostPort(host, strconv.Itoa(j.Port)) + "/events", j, nil
}

// intakeClient is an HTTP client for the intake j configures: it sends j's
// first write token, if any, and trusts j's own certificate, which may be
// self-signed.
func intakeClient(j config.JSONAPI, timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if j.TLS() {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if pem, err := os.ReadFile(j.TLSCertFile); err == nil {
			pool.AppendCertsFromPEM(pem)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	var rt http.RoundTripper = tr
	if len(j.TokensWrite) > 0 {
		rt = bearer{token: j.TokensWrite[0], next: tr}
	}
	return &http.Client{Timeout: timeout, Transport: rt}
}

// bearer adds a bearer token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// intakeURL checks an intake's URL; a URL without a path means its /events.
func intakeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("--intake %q: want an http:// or https:// URL, such as http://127.0.0.1:3081/events", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/events"
	}
	return u.String(), nil
}
