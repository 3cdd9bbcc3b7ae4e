// Command flapjack is the reference daemon of Flapjack for Go and its tools.
//
//	flapjack server              run the daemon (the embedded default needs no configuration)
//	flapjack test FILE...        run rule-test files
//
// Run "flapjack help" for every command and flag.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// exitError carries a process exit status through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:]))
}

// run executes the command line and returns the exit status.
func run(ctx context.Context, args []string) int {
	root := newRoot()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(root.ErrOrStderr(), "flapjack:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(root.ErrOrStderr(), "flapjack:", err)
	return 1
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "flapjack",
		Short: "Flapjack routes monitoring alerts by how long checks have been failing",
		Long: `Flapjack takes a steady stream of check results, decides by how long a check
has been failing whether and whom to alert, and delivers alerts to people's
media with per-medium intervals, rollups, acknowledgements and maintenance.`,
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringP("config", "c", "", "configuration file (TOML); default: the embedded default")
	root.AddCommand(newServerCmd(), newTestCmd())
	root.AddCommand(newFlapperCmd(), newSimulateCmd(), newMaintenanceCmd(), newPurgeCmd(), newCheckConfigCmd(), newImportCmd(), newCompletionCmd())
	root.AddCommand(newReceiverCmd())
	return root
}
