package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/x/flapjack"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store/memory"
)

func newCheckConfigCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check-config [FILE]",
		Short: "Check a configuration file and the set-up data it names, starting nothing",
		Long: `Reads the configuration FILE (or the one --config names) as "flapjack server"
would — every table and key, the gateways' settings and template files, and
the set-up data file of [setup] — without connecting to anything or starting
anything.

Prints every problem, each with its file and line, and exits 2; or prints
"configuration ok" with a one-line summary of what the daemon would run, and
exits 0. Settings that have no effect are reported as warnings.`,
		Example: "  flapjack check-config /etc/flapjack/flapjack.toml",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path, _ := cmd.Flags().GetString("config")
			if len(args) == 1 {
				path = args[0]
			}
			if path == "" {
				return usageError(errors.New("name the configuration file to check"))
			}
			// Problems are printed one per line, as they are found, without
			// anything before them, for editors and scripts to read.
			report := func(errs ...error) error {
				for _, err := range errs {
					fmt.Fprintln(cmd.ErrOrStderr(), err)
				}
				return &exitError{code: 2}
			}
			cfg, err := config.Load(path)
			if err != nil {
				return report(err)
			}
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			summary, problems := checkConfig(cfg)
			if len(problems) > 0 {
				return report(problems...)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "configuration ok:", summary)
			return nil
		},
	}
}

// checkConfig checks what config.Load cannot: the set-up data, the gateways'
// settings and the processor's, by building everything "flapjack server"
// builds before it connects and starts. It returns a summary of what would run
// and every problem found.
func checkConfig(cfg *config.Config) (string, []error) {
	var problems []error
	var parts []string
	if cfg.Redis != nil {
		parts = append(parts, "Redis store "+cfg.Redis.Redacted())
	} else {
		parts = append(parts, "in-memory store")
	}
	if cfg.ProcessorEnabled() {
		parts = append(parts, "processor")
		if _, err := processorSettings(cfg); err != nil {
			problems = append(problems, fmt.Errorf("%s: [processor] %w", cfg.Where("processor"), err))
		}
	}
	if cfg.NotifierEnabled() {
		parts = append(parts, "notifier")
	}
	if j, err := cfg.JSONAPI(); err != nil {
		problems = append(problems, fmt.Errorf("%s: [gateways.jsonapi] %w", cfg.Where("gateways.jsonapi"), err))
	} else if *j.Enabled {
		parts = append(parts, "event intake on "+j.BindAddress+":"+strconv.Itoa(j.Port))
	}
	if _, _, err := webSettings(cfg); err != nil {
		problems = append(problems, err)
	}
	names, gwProblems := checkGateways(cfg)
	problems = append(problems, gwProblems...)
	switch len(names) {
	case 0:
		parts = append(parts, "no gateway")
	case 1:
		parts = append(parts, "gateway "+names[0])
	default:
		parts = append(parts, "gateways "+strings.Join(names, ", "))
	}
	if f := cfg.SetupFile(); f != "" || cfg.Path == "" {
		data, err := loadSetup(f)
		switch {
		case err == nil:
			parts = append(parts, fmt.Sprintf("set-up data with %s and %s", plural(len(data.Checks), "check"), plural(len(data.Contacts), "contact")))
		case errors.As(err, new(*setup.Error)):
			problems = append(problems, err)
		default:
			problems = append(problems, fmt.Errorf("%s: [setup] file: %w", cfg.Where("setup.file"), err))
		}
	} else {
		parts = append(parts, "no set-up data")
	}
	return strings.Join(parts, ", "), problems
}

// checkGateways builds every enabled gateway as the daemon does, on a store
// of its own that nothing uses, and closes it again. It returns the names of
// the enabled gateways and every problem.
func checkGateways(cfg *config.Config) ([]string, []error) {
	st := memory.New()
	defer st.Close()
	discard := slog.New(slog.DiscardHandler)
	srv := newServer(st, newLogLevels(cfg, io.Discard), discard)
	env := gateway.Env{Logger: discard, Clock: flapjack.SystemClock{}, Templates: gateway.DefaultTemplates()}.WithDefaults()
	var names []string
	var problems []error
	for _, name := range slices.Sorted(maps.Keys(cfg.Gateways)) {
		if isHTTPGateway(name) {
			continue
		}
		if name == oobetetName {
			switch op, err := srv.buildOobetet(cfg, env, nil); {
			case err != nil:
				problems = append(problems, err)
			case op == nil:
				continue // not enabled
			}
			names = append(names, name)
			continue
		}
		gp, err := srv.buildGateway(cfg, name, env, nil)
		switch {
		case err != nil:
			problems = append(problems, err)
		case gp == nil:
			continue // not enabled
		default:
			if c, ok := gp.g.(gateway.Closer); ok {
				_ = c.Close()
			}
		}
		names = append(names, name)
	}
	return names, problems
}
