package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/setup"
	redisstore "github.com/x/flapjack/store/redis"
)

func newImportCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE",
		Short: "Load set-up data (checks, contacts, media, rules) into the Redis store",
		Long: `Reads a set-up data file — the schema of the [setup] file and of a rule-test
file's set-up: checks, and contacts with their media and rules — and writes it
into the Redis store named by the configuration's [redis] table, where running
daemons pick it up. Checks are created or have their tags, enabled flag and
delays set; contacts, media and rules are created or replaced.

The file is checked first: every problem is printed with its line, nothing is
written, and the exit status is 2. Exit status 2 also when the configuration
has no [redis] table (the in-memory store belongs to a running daemon) or
Redis cannot be used.`,
		Example: `  flapjack import --config /etc/flapjack/flapjack.toml setup.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := setup.Load(args[0])
			if err != nil {
				return usageError(err)
			}
			st, err := openSharedStore(cmd, "import")
			if err != nil {
				return err
			}
			defer st.Close()
			if err := data.Apply(cmd.Context(), st); err != nil {
				return err
			}
			var media, rules int
			for _, c := range data.Contacts {
				media += len(c.Media)
				rules += len(c.Rules)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Imported %s and %s (%s, %s) from %s\n",
				plural(len(data.Checks), "check"), plural(len(data.Contacts), "contact"),
				plural(media, "medium"), plural(rules, "rule"), args[0])
			return nil
		},
	}
}

// plural is "1 check", "2 checks", "3 media".
func plural(n int, noun string) string {
	if n != 1 {
		if noun == "medium" {
			noun = "media"
		} else {
			noun += "s"
		}
	}
	return strconv.Itoa(n) + " " + noun
}

// usageError is a problem with what the user asked for: exit status 2.
func usageError(err error) error { return &exitError{code: 2, err: err} }

// loadConfig reads the configuration --config names, or the embedded default.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		return config.Default(), nil
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, usageError(err)
	}
	return cfg, nil
}

// errNoRedis is why the tools that work on a store need a [redis] table.
var errNoRedis = errors.New(`has no [redis] table, so checks live in the memory of the running daemon ` +
	`("flapjack server") and nothing else can reach them; give --config FILE naming the [redis] ` +
	`store the daemons use (working on a daemon's in-memory data through its API is not available yet)`)

// openSharedStore opens the Redis store of the configuration --config names,
// for the command what.
//
// It registers under a consumer id of its own ("<host>:<pid>/<what>"), never
// the configured one: that belongs to a daemon, and a store opened under it
// would take back, as left behind, the items the running daemon is handling.
func openSharedStore(cmd *cobra.Command, what string) (*redisstore.Store, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	if cfg.Redis == nil {
		where := cfg.Path
		if where == "" {
			where = "the embedded default configuration"
		}
		return nil, usageError(fmt.Errorf("%s: %s %w", what, where, errNoRedis))
	}
	opts, err := cfg.Redis.Options()
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: [redis] %w", cfg.Where("redis"), err))
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	opts.ConsumerID = host + ":" + strconv.Itoa(os.Getpid()) + "/" + strings.ReplaceAll(what, " ", "-")
	opts.Logger = newLogger(config.Logger{Level: "warn", Format: cfg.Logger.Format}, cmd.ErrOrStderr())
	st, err := redisstore.New(cmd.Context(), opts)
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: [redis] cannot use %s: %s",
			cfg.Where("redis"), cfg.Redis.Redacted(), cfg.Redis.Scrub(err.Error())))
	}
	return st, nil
}
