package main

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/flapper"
)

func newFlapperCmd() *cobra.Command {
	var (
		bindIP    string
		port      int
		frequency float64
	)
	cmd := &cobra.Command{
		Use:   "flapper",
		Short: "Run a TCP service that is up half the time, for an end-to-end self check",
		Long: `Listens on --bind-ip:--bind-port for half of every --frequency seconds and is
down for the other half, until interrupted (SIGINT or SIGTERM). While up it
accepts clients and reads lines from them, answering nothing; it closes a
client at end of input or on a line containing "quit". Going down closes the
listener and every client.

Point a monitoring check at it (Nagios' check_tcp, for one) whose alerts go
to a contact the oobetet watches: problems and recoveries should then arrive
every cycle, and their absence means part of the monitoring chain is broken.

Logs a line at every change. Exits 1 when it cannot listen at start.`,
		Example: "  flapjack flapper -b 127.0.0.1 -P 12345 -f 60",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if frequency <= 0 {
				return usageError(fmt.Errorf("--frequency %g: want more than 0 seconds", frequency))
			}
			if port < 1 || port > 65535 {
				return usageError(fmt.Errorf("--bind-port %d: want a port between 1 and 65535", port))
			}
			if bindIP == "" {
				bindIP = flapper.PrimaryIP()
			}
			log := newLogger(config.Logger{}, cmd.ErrOrStderr())
			return flapper.Run(cmd.Context(), flapper.Options{
				Addr:      net.JoinHostPort(bindIP, strconv.Itoa(port)),
				Frequency: time.Duration(frequency * float64(time.Second)),
				Logger:    log.With("component", "flapper"),
			})
		},
	}
	cmd.Flags().StringVarP(&bindIP, "bind-ip", "b", "", "the address to listen on (default: the host's primary IP address, the one its route to the internet uses; 127.0.0.1 without one)")
	cmd.Flags().IntVarP(&port, "bind-port", "P", flapper.DefaultPort, "the port to listen on")
	cmd.Flags().Float64VarP(&frequency, "frequency", "f", flapper.DefaultFrequency.Seconds(), "the length of one up-and-down cycle, in seconds (decimals allowed): up for half, down for the rest")
	return cmd
}
