package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

func newPurgeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "purge",
		Short: "Delete old records from the Redis store",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newPurgeCheckHistoryCmd())
	return cmd
}

func newPurgeCheckHistoryCmd() *cobra.Command {
	var days, check string
	cmd := &cobra.Command{
		Use:   "check_history",
		Short: "Delete check states older than a number of days",
		Long: `Deletes from the history of every check (or of the one --check names) the
states created more than --days days ago, in the Redis store named by the
configuration's [redis] table. A check's current state is always kept, and so
is every state one of its latest notifications was made from, however old.

Prints "Purged N historical check states over M checks." or "Nothing to do".
As in Flapjack v2, -c is --check here: give the configuration with --config.`,
		Example: `  flapjack purge check_history --config /etc/flapjack/flapjack.toml -d 30 -c web-1:HTTP`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFlagNotConfig(cmd, check); err != nil {
				return err
			}
			n, err := strconv.Atoi(strings.TrimSpace(days))
			if err != nil || n < 0 {
				return usageError(fmt.Errorf("--days %q: want a whole number of days, 0 or more", days))
			}
			st, err := openSharedStore(cmd, "purge check_history")
			if err != nil {
				return err
			}
			defer st.Close()
			before := time.Now().Add(-time.Duration(n) * 24 * time.Hour)
			return purgeCheckHistory(cmd.Context(), st, cmd.OutOrStdout(), check, before)
		},
	}
	addCheckFlag(cmd, &check, "only this check, by name or id (default: every check)")
	cmd.Flags().StringVarP(&days, "days", "d", "90", "delete states older than this many days (a whole number)")
	return cmd
}

// historyStore is what purging needs of a store.
type historyStore interface {
	store.Checks
	store.HistoryPurger
}

// purgeCheckHistory purges the history of check (a name or an id; empty for
// every check) of the states created before before.
func purgeCheckHistory(ctx context.Context, st historyStore, w io.Writer, check string, before time.Time) error {
	var checks []flapjack.Check
	if check != "" {
		c, err := st.Check(ctx, check)
		if errors.Is(err, store.ErrNotFound) {
			c, err = st.CheckByID(ctx, check)
		}
		if errors.Is(err, store.ErrNotFound) {
			return &exitError{code: 1, err: fmt.Errorf("no check is named %q or has that id", check)}
		}
		if err != nil {
			return err
		}
		checks = append(checks, c)
	} else {
		var err error
		if checks, err = st.QueryChecks(ctx, store.CheckQuery{}); err != nil {
			return err
		}
	}
	total, over := 0, 0
	for _, c := range checks {
		n, err := st.PurgeHistory(ctx, c.ID, before)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return fmt.Errorf("purge the history of %q: %w", c.Name, err)
		}
		if n > 0 {
			total += n
			over++
		}
	}
	if total == 0 {
		fmt.Fprintln(w, "Nothing to do")
		return nil
	}
	fmt.Fprintf(w, "Purged %d historical check states over %d checks.\n", total, over)
	return nil
}
