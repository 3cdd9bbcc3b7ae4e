package main

import (
	"github.com/spf13/cobra"

	"github.com/x/flapjack/flapjacktest"
)

func newTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test FILE...",
		Short: "Run rule-test files against the whole pipeline on a fake clock",
		Long: `Runs each rule-test file (YAML) through the processor, the notifier and the
gateways in-process, on a fake clock, and compares what happened with each
step's expectations.

Prints one line per test ("ok FILE: NAME" or "FAIL FILE: NAME" followed by the
step, expected and produced values and the decision trace), then
"N passed, M failed". Exits 0 when every test passes, 1 when one fails, and 2
when a file is invalid.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep := flapjacktest.RunFiles(cmd.Context(), cmd.OutOrStdout(), args...)
			if code := rep.ExitCode(); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}
