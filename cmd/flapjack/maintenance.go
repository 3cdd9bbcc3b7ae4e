package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/x/flapjack"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

func newMaintenanceCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "maintenance",
		Short: "Show, create and end checks' maintenance windows on the Redis store",
		Long: `Works on the maintenance windows of the checks kept in the Redis store named
by the configuration's [redis] table, while daemons run on it.

Scheduled maintenance is planned downtime: it silences every alert of a check.
Unscheduled maintenance is what an acknowledgement makes: it silences problem
alerts until it ends or the check recovers.

Without a [redis] table checks live in the memory of the running daemon, and
these commands refuse to run.

As in Flapjack v2, -c is --check for these commands: give the configuration
with --config.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newMaintenanceShowCmd(), newMaintenanceCreateCmd(), newMaintenanceDeleteCmd())
	return cmd
}

// maintenanceQuery holds the filters of "maintenance show" and "delete".
type maintenanceQuery struct {
	check, reason, start, finish, duration, state, kind string
}

const filterHelp = `
Filters combine: a maintenance is listed when it passes every one given.

  -c, --check      regular expression on the check's name
  -r, --reason     regular expression on the maintenance's reason
  -s, --start      when it starts: "before T", "after T", "on T",
                   "between T1 and T2", "more than D ago", "less than D ago",
                   "more than D from now", "less than D from now"
                   (plain "more than D" means ago)
  -f, --finish     when it ends, as --start (plain "more than D" means from now)
  -d, --duration   how long it lasts: "more than D", "less than D",
                   "equal to D", "between 1 and 3 hours"
      --state      the check's current condition: ok, critical, warning or unknown
  -t, --type       scheduled (default) or unscheduled

T is a time: "now", "2024-05-01T09:00:00Z", "2024-05-01 09:00" (local time),
"2024-05-01", "09:00", "tomorrow 9am", "yesterday at 18:00", "in 2 hours",
"3 days ago". D is a duration: "90 minutes", "2 hours, 30 minutes", "1h30m".
Times print in the local time zone (set TZ to change it).`

func (q *maintenanceQuery) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	addCheckFlag(cmd, &q.check, "regular expression on the check's name")
	f.StringVarP(&q.reason, "reason", "r", "", "regular expression on the maintenance's reason")
	f.StringVarP(&q.start, "start", "s", "", `when the maintenance starts, e.g. "after 2024-05-01", "more than 2 hours ago" (also --started, --starting)`)
	f.StringVarP(&q.finish, "finish", "f", "", `when the maintenance ends, e.g. "before tomorrow", "less than 1 hour from now" (also --finished, --finishing, --remain, --remaining, --end)`)
	f.StringVarP(&q.duration, "duration", "d", "", `how long the maintenance lasts, e.g. "more than 1 hour", "between 1 and 3 days"`)
	f.StringVar(&q.state, "state", "", "only checks whose current condition is this: ok, critical, warning or unknown")
	f.StringVarP(&q.kind, "type", "t", "scheduled", "which maintenance: scheduled or unscheduled")
	f.SetNormalizeFunc(maintenanceFlagAliases)
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"scheduled", "unscheduled"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"ok", "critical", "warning", "unknown"}, cobra.ShellCompDirectiveNoFileComp))
}

// maintenanceFlagAliases accepts Flapjack v2's other names of --start and --finish.
func maintenanceFlagAliases(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	switch name {
	case "started", "starting":
		name = "start"
	case "finished", "finishing", "remain", "remaining", "end":
		name = "finish"
	}
	return pflag.NormalizedName(name)
}

// addCheckFlag gives cmd Flapjack v2's -c/--check. That takes -c from the
// global --config, which the command keeps under its long name only.
func addCheckFlag(cmd *cobra.Command, p *string, usage string) {
	cmd.Flags().String("config", "", "configuration file (TOML) whose [redis] table names the store (here -c is --check)")
	_ = cmd.MarkFlagFilename("config", "toml")
	cmd.Flags().StringVarP(p, "check", "c", "", usage)
}

// checkFlagNotConfig catches "-c FILE.toml" meant as the configuration.
func checkFlagNotConfig(cmd *cobra.Command, check string) error {
	if !cmd.Flags().Changed("config") && strings.HasSuffix(check, ".toml") {
		return usageError(fmt.Errorf("-c is --check for %q, as in Flapjack v2: give the configuration with --config %s", cmd.CommandPath(), check))
	}
	return nil
}

// maintenanceSelector is a compiled maintenanceQuery.
type maintenanceSelector struct {
	check, reason *regexp.Regexp
	start, finish timeFilter
	duration      durationFilter
	state         flapjack.Condition
	unscheduled   bool
}

func (q *maintenanceQuery) compile(now time.Time) (*maintenanceSelector, error) {
	var s maintenanceSelector
	var errs []error
	var err error
	switch strings.ToLower(q.kind) {
	case "scheduled":
	case "unscheduled":
		s.unscheduled = true
	default:
		errs = append(errs, fmt.Errorf("--type %q: want scheduled or unscheduled", q.kind))
	}
	if q.check != "" {
		if s.check, err = regexp.Compile(q.check); err != nil {
			errs = append(errs, fmt.Errorf("--check: %w", err))
		}
	}
	if q.reason != "" {
		if s.reason, err = regexp.Compile(q.reason); err != nil {
			errs = append(errs, fmt.Errorf("--reason: %w", err))
		}
	}
	if q.start != "" {
		if s.start, err = parseTimeFilter(q.start, now, false); err != nil {
			errs = append(errs, fmt.Errorf("--start: %w", err))
		}
	}
	if q.finish != "" {
		if s.finish, err = parseTimeFilter(q.finish, now, true); err != nil {
			errs = append(errs, fmt.Errorf("--finish: %w", err))
		}
	}
	if q.duration != "" {
		if s.duration, err = parseDurationFilter(q.duration); err != nil {
			errs = append(errs, fmt.Errorf("--duration: %w", err))
		}
	}
	if q.state != "" {
		if s.state, err = flapjack.ParseCondition(q.state); err != nil {
			errs = append(errs, fmt.Errorf("--state: %w", err))
		}
	}
	if len(errs) > 0 {
		return nil, usageError(errors.Join(errs...))
	}
	return &s, nil
}

// maintenanceRow is one maintenance of one check.
type maintenanceRow struct {
	check string
	flapjack.Maintenance
}

// selectFrom lists the maintenances of checks that pass every filter, by
// check name, then start.
func (s *maintenanceSelector) selectFrom(checks []flapjack.Check) []maintenanceRow {
	var rows []maintenanceRow
	for _, c := range checks {
		if s.check != nil && !s.check.MatchString(c.Name) || s.state != flapjack.NoCondition && c.Condition != s.state {
			continue
		}
		ms := c.ScheduledMaintenances
		if s.unscheduled {
			ms = c.UnscheduledMaintenances
		}
		for _, m := range ms {
			if s.reason != nil && !s.reason.MatchString(m.Summary) ||
				s.start != nil && !s.start(m.Start) ||
				s.finish != nil && !s.finish(m.End) ||
				s.duration != nil && !s.duration(m.End.Sub(m.Start)) {
				continue
			}
			rows = append(rows, maintenanceRow{check: c.Name, Maintenance: m})
		}
	}
	slices.SortStableFunc(rows, func(a, b maintenanceRow) int {
		return cmp.Or(strings.Compare(a.check, b.check), a.Start.Compare(b.Start))
	})
	return rows
}

// v2TimeLayout is how Flapjack v2 (Ruby's Time#to_s) printed times.
const v2TimeLayout = "2006-01-02 15:04:05 -0700"

// writeMaintenances prints rows as Flapjack v2 did: a table of check, start,
// duration in seconds, reason and end, times in loc.
func writeMaintenances(w io.Writer, rows []maintenanceRow, loc *time.Location) {
	if len(rows) == 0 {
		return
	}
	cells := [][]string{{"Check", "Start", "Duration (s)", "Reason", "End"}}
	for _, r := range rows {
		cells = append(cells, []string{
			r.check, r.Start.In(loc).Format(v2TimeLayout),
			strconv.FormatInt(int64(r.End.Sub(r.Start).Round(time.Second)/time.Second), 10),
			r.Summary, r.End.In(loc).Format(v2TimeLayout),
		})
	}
	writeTable(w, cells)
}

// writeTable draws cells with borders; the first row is the heading.
func writeTable(w io.Writer, cells [][]string) {
	widths := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	rule := func() {
		for _, n := range widths {
			b.WriteString("+" + strings.Repeat("-", n+2))
		}
		b.WriteString("+\n")
	}
	rule()
	for i, row := range cells {
		for j, c := range row {
			b.WriteString("| " + c + strings.Repeat(" ", widths[j]-utf8.RuneCountInString(c)+1))
		}
		b.WriteString("|\n")
		if i == 0 {
			rule()
		}
	}
	rule()
	io.WriteString(w, b.String())
}

func newMaintenanceShowCmd() *cobra.Command {
	var q maintenanceQuery
	cmd := &cobra.Command{
		Use:   "show",
		Short: "List maintenances, filtered",
		Long: `Lists the scheduled (or, with --type unscheduled, unscheduled) maintenances
of the checks in the Redis store as a table of check, start, duration in
seconds, reason and end, then "Found N maintenances".
` + filterHelp,
		Example: `  flapjack maintenance show --config /etc/flapjack/flapjack.toml -c '^web-' -s 'after yesterday'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFlagNotConfig(cmd, q.check); err != nil {
				return err
			}
			now := time.Now()
			sel, err := q.compile(now)
			if err != nil {
				return err
			}
			st, err := openSharedStore(cmd, "maintenance show")
			if err != nil {
				return err
			}
			defer st.Close()
			return showMaintenances(cmd.Context(), st, cmd.OutOrStdout(), sel, now.Location())
		},
	}
	q.flags(cmd)
	return cmd
}

func showMaintenances(ctx context.Context, st store.Checks, w io.Writer, sel *maintenanceSelector, loc *time.Location) error {
	checks, err := st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return err
	}
	rows := sel.selectFrom(checks)
	writeMaintenances(w, rows, loc)
	fmt.Fprintf(w, "Found %d maintenances\n", len(rows))
	return nil
}

func newMaintenanceDeleteCmd() *cobra.Command {
	var q maintenanceQuery
	var apply bool
	cmd := &cobra.Command{
		Use:   "delete",
		Short: "End the maintenances that pass the filters (dry run unless --apply)",
		Long: `Ends the maintenances that pass the filters, as of now:

  scheduled    one that has not started is removed; one under way is cut
               short to end now; one already over cannot be ended and is
               reported as an error
  unscheduled  one under way (an acknowledgement) ends now; one already
               over is reported as an error

Without --apply nothing changes: it lists the maintenances, says what would
happen to them, and exits 1 asking to run again with --apply. With --apply it
exits 1 when some maintenance could not be ended.
` + filterHelp,
		Example: `  flapjack maintenance delete --config flapjack.toml -c '^db-' -r 'upgrade' --apply`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFlagNotConfig(cmd, q.check); err != nil {
				return err
			}
			now := time.Now()
			sel, err := q.compile(now)
			if err != nil {
				return err
			}
			st, err := openSharedStore(cmd, "maintenance delete")
			if err != nil {
				return err
			}
			defer st.Close()
			return deleteMaintenances(cmd.Context(), st, cmd.OutOrStdout(), sel, now, apply)
		},
	}
	q.flags(cmd)
	cmd.Flags().BoolVarP(&apply, "apply", "a", false, "end the maintenances; without it, only show what would happen")
	return cmd
}

// ending is what ending a maintenance did to it.
type ending int

const (
	removed  ending = iota // it had not started
	cutShort               // it was under way and now ends now
)

// endMaintenance ends maintenance id of c at now, as "maintenance delete" does.
func endMaintenance(c *flapjack.Check, unscheduled bool, id string, now time.Time) (ending, error) {
	if !unscheduled {
		if err := c.EndScheduledMaintenance(id, now); err != nil {
			return 0, err
		}
		if slices.ContainsFunc(c.ScheduledMaintenances, func(m flapjack.Maintenance) bool { return m.ID == id }) {
			return cutShort, nil
		}
		return removed, nil
	}
	// Unscheduled maintenance ends by the rules of scheduled maintenance.
	i := slices.IndexFunc(c.UnscheduledMaintenances, func(m flapjack.Maintenance) bool { return m.ID == id })
	if i < 0 {
		return 0, fmt.Errorf("end unscheduled maintenance %s of %q: %w", id, c.Name, flapjack.ErrNotFound)
	}
	switch m := c.UnscheduledMaintenances[i]; {
	case !m.Start.Before(now):
		c.UnscheduledMaintenances = slices.Delete(c.UnscheduledMaintenances, i, i+1)
		return removed, nil
	case !m.End.Before(now):
		c.UnscheduledMaintenances[i].End = now
		return cutShort, nil
	default:
		return 0, fmt.Errorf("end unscheduled maintenance %s of %q: %w at %s", id, c.Name, flapjack.ErrMaintenanceOver, m.End.UTC().Format(time.RFC3339))
	}
}

// endResult is the outcome of ending one maintenance.
type endResult struct {
	row    maintenanceRow
	ending ending
	err    error
}

func deleteMaintenances(ctx context.Context, st store.Checks, w io.Writer, sel *maintenanceSelector, now time.Time, apply bool) error {
	checks, err := st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return err
	}
	rows := sel.selectFrom(checks)
	writeMaintenances(w, rows, now.Location())
	fmt.Fprintf(w, "Found %d maintenances\n", len(rows))
	if len(rows) == 0 {
		fmt.Fprintln(w, "Nothing to do")
		return nil
	}
	byCheck := map[string][]maintenanceRow{}
	var names []string
	for _, r := range rows {
		if byCheck[r.check] == nil {
			names = append(names, r.check)
		}
		byCheck[r.check] = append(byCheck[r.check], r)
	}
	var results []endResult
	if !apply {
		// Work out what would happen on copies, with the code that does it.
		for _, c := range checks {
			c := c.Clone()
			for _, r := range byCheck[c.Name] {
				e, err := endMaintenance(&c, sel.unscheduled, r.ID, now)
				results = append(results, endResult{r, e, err})
			}
		}
	} else {
		for _, name := range names {
			var these []endResult
			_, err := st.UpdateCheck(ctx, name, false, func(u *store.CheckUpdate) error {
				these = these[:0] // the callback may run again
				for _, r := range byCheck[name] {
					e, err := endMaintenance(&u.Check, sel.unscheduled, r.ID, now)
					these = append(these, endResult{r, e, err})
				}
				return nil
			})
			if err != nil {
				these = these[:0]
				for _, r := range byCheck[name] {
					these = append(these, endResult{row: r, err: err})
				}
			}
			results = append(results, these...)
		}
	}
	var nRemoved, nCut, nFailed int
	for _, r := range results {
		switch {
		case r.err != nil:
			nFailed++
			fmt.Fprintf(w, "cannot end the maintenance of %s from %s to %s: %v\n", r.row.check,
				r.row.Start.In(now.Location()).Format(v2TimeLayout), r.row.End.In(now.Location()).Format(v2TimeLayout), cause(r.err))
		case r.ending == removed:
			nRemoved++
		default:
			nCut++
		}
	}
	verb := "Ended"
	if !apply {
		verb = "Would end"
	}
	fmt.Fprintf(w, "%s %d maintenances: %d removed before they start, %d cut short to end now\n", verb, nRemoved+nCut, nRemoved, nCut)
	if !apply {
		return &exitError{code: 1, err: errors.New("dry run, nothing changed: run again with --apply to end these maintenances")}
	}
	if nFailed > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d of %d maintenances could not be ended", nFailed, len(results))}
	}
	return nil
}

// cause is what people need of an error of endMaintenance.
func cause(err error) string {
	switch {
	case errors.Is(err, flapjack.ErrMaintenanceOver):
		return "it is already over"
	case errors.Is(err, flapjack.ErrNotFound):
		return "it no longer exists"
	}
	return err.Error()
}

func newMaintenanceCreateCmd() *cobra.Command {
	var checks, reason, start, duration, kind string
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Put checks into maintenance",
		Long: `Creates one maintenance window [start, start + duration] on each check named,
creating the checks that do not exist yet. Unscheduled maintenance is an
acknowledgement without an event: the check stops counting toward rollups,
and an unscheduled maintenance under way ends where the new one starts.

--start is a time: "now", "2024-05-01T09:00:00Z", "2024-05-01 09:00" (local
time), "09:00", "tomorrow 9am", "today at 22:30", "in 10 minutes".
--duration is a duration: "2 hours", "90 minutes", "1 day, 4 hours", "1h30m".`,
		Example: `  flapjack maintenance create --config flapjack.toml -c web-1:HTTP,web-2:HTTP \
      -s 'tomorrow 02:00' -d '2 hours' -r 'kernel upgrade'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFlagNotConfig(cmd, checks); err != nil {
				return err
			}
			now := time.Now()
			plan, err := planMaintenance(checks, reason, start, duration, kind, now)
			if err != nil {
				return err
			}
			st, err := openSharedStore(cmd, "maintenance create")
			if err != nil {
				return err
			}
			defer st.Close()
			return createMaintenances(cmd.Context(), st, cmd.OutOrStdout(), plan, now)
		},
	}
	addCheckFlag(cmd, &checks, "the checks to put into maintenance, separated by commas (required)")
	cmd.Flags().StringVarP(&reason, "reason", "r", "", "why the checks are in maintenance")
	cmd.Flags().StringVarP(&start, "start", "s", "", `when the maintenance starts, e.g. "now", "tomorrow 02:00" (required)`)
	cmd.Flags().StringVarP(&duration, "duration", "d", "", `how long it lasts, e.g. "2 hours" (required)`)
	cmd.Flags().StringVarP(&kind, "type", "t", "scheduled", "scheduled or unscheduled")
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"scheduled", "unscheduled"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// maintenancePlan is a validated "maintenance create".
type maintenancePlan struct {
	checks      []string
	window      flapjack.Maintenance // without an id
	unscheduled bool
}

func planMaintenance(checks, reason, start, duration, kind string, now time.Time) (*maintenancePlan, error) {
	var p maintenancePlan
	var errs []error
	for name := range strings.SplitSeq(checks, ",") {
		if name = strings.TrimSpace(name); name != "" && !slices.Contains(p.checks, name) {
			p.checks = append(p.checks, name)
		}
	}
	if len(p.checks) == 0 {
		errs = append(errs, errors.New("--check: name at least one check"))
	}
	switch strings.ToLower(kind) {
	case "scheduled":
	case "unscheduled":
		p.unscheduled = true
	default:
		errs = append(errs, fmt.Errorf("--type %q: want scheduled or unscheduled", kind))
	}
	var from time.Time
	var err error
	if start == "" {
		errs = append(errs, errors.New("--start: say when the maintenance starts, e.g. \"now\""))
	} else if from, err = parseTime(start, now); err != nil {
		errs = append(errs, fmt.Errorf("--start: %w", err))
	}
	var d time.Duration
	if duration == "" {
		errs = append(errs, errors.New("--duration: say how long the maintenance lasts, e.g. \"2 hours\""))
	} else if d, err = config.ParseDuration(duration); err != nil {
		errs = append(errs, fmt.Errorf("--duration: %w", err))
	} else if d <= 0 {
		errs = append(errs, fmt.Errorf("--duration %q: must be longer than nothing", duration))
	}
	if len(errs) > 0 {
		return nil, usageError(errors.Join(errs...))
	}
	p.window = flapjack.Maintenance{Start: from, End: from.Add(d), Summary: reason}
	return &p, nil
}

func createMaintenances(ctx context.Context, st store.Checks, w io.Writer, p *maintenancePlan, now time.Time) error {
	var rows []maintenanceRow
	var created []string
	for _, name := range p.checks {
		m := p.window
		m.ID = uuid.NewString()
		var isNew bool
		_, err := st.UpdateCheck(ctx, name, true, func(u *store.CheckUpdate) error {
			isNew = u.Created
			if p.unscheduled {
				u.Check.SetUnscheduledMaintenance(m, now)
			} else {
				u.Check.ScheduledMaintenances = append(u.Check.ScheduledMaintenances, m)
			}
			return nil
		})
		if err != nil {
			writeMaintenances(w, rows, now.Location())
			return fmt.Errorf("put %q into maintenance: %w", name, err)
		}
		if isNew {
			created = append(created, name)
		}
		rows = append(rows, maintenanceRow{check: name, Maintenance: m})
	}
	writeMaintenances(w, rows, now.Location())
	if len(created) > 0 {
		fmt.Fprintf(w, "Created checks %s\n", strings.Join(created, ", "))
	}
	kind := "scheduled"
	if p.unscheduled {
		kind = "unscheduled"
	}
	fmt.Fprintf(w, "Created %d %s maintenances\n", len(rows), kind)
	return nil
}
