package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"time"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/jabber"
	"github.com/x/flapjack/oobetet"
)

// oobetetName is the [gateways] table of the self-monitoring oobetet, and the
// name of its pipeline stage. It is no notification transport: it has no
// queue and no delivery.
const oobetetName = "oobetet"

// defaultOobetetAlias is the oobetet's nickname in the rooms when alias is not
// set: not the jabber gateway's, so that both can sit in the same room.
const defaultOobetetAlias = "oobetet"

// oobetetReadyWait bounds how long the oobetet waits for its rooms before it
// starts watching (and paging) without them.
const oobetetReadyWait = 30 * time.Second

// oobetetConfig is the [gateways.oobetet] table: the oobetet's keys and the
// connection keys it shares with [gateways.jabber].
type oobetetConfig struct {
	oobetet.Config
	Timeout            float64 `json:"timeout"`
	CAFile             string  `json:"ca_file"`
	InsecureSkipVerify bool    `json:"insecure_skip_verify"`
}

// oobetetPlan is the enabled oobetet.
type oobetetPlan struct {
	key  string // the settings it was built from
	room *jabber.Room
	o    *oobetet.Oobetet
}

// buildOobetet makes the oobetet [gateways.oobetet] configures, or returns
// prev when its settings are those prev was built from; nil when it is not
// enabled.
func (d *server) buildOobetet(cfg *config.Config, env gateway.Env, prev *oobetetPlan) (*oobetetPlan, error) {
	table := maps.Clone(cfg.Gateways[oobetetName])
	var shared config.Gateway
	sharedFrom(table, &shared)
	if !shared.Enabled {
		return nil, nil
	}
	where := cfg.Where("gateways." + oobetetName)
	key := fingerprint(table)
	if prev != nil && prev.key == key {
		return prev, nil
	}
	var c oobetetConfig
	if err := gateway.MapConfig(table).Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: [gateways.%s] %w", where, oobetetName, err)
	}
	var errs []error
	opts, err := c.Options(env.HTTPClient)
	if err != nil {
		errs = append(errs, err)
	}
	port, err := portNumber(c.Port)
	if err != nil {
		errs = append(errs, err)
	}
	alias := c.Alias
	if alias == "" {
		alias = defaultOobetetAlias
	}
	log := d.levels.logger("gateways."+oobetetName).With("component", oobetetName)
	renv := env
	renv.Logger = log
	room, err := jabber.NewRoom(jabber.Config{
		JabberID: c.JabberID, Password: c.Password, Alias: alias, Rooms: c.Rooms,
		Server: c.Server, Port: port, Timeout: c.Timeout,
		CAFile: c.CAFile, InsecureSkipVerify: c.InsecureSkipVerify,
	}, renv)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%s: [gateways.%s] %w", where, oobetetName, err)
	}
	opts.Room, opts.Clock, opts.Logger = room, env.Clock, log
	o, err := oobetet.New(opts)
	if err != nil {
		return nil, fmt.Errorf("%s: [gateways.%s] %w", where, oobetetName, err)
	}
	return &oobetetPlan{key: key, room: room, o: o}, nil
}

// run keeps the room connected and runs the oobetet until ctx ends. The
// oobetet starts once the rooms are joined, so that they hear its greeting,
// or after oobetetReadyWait without them: it pages about the silence anyway.
func (p *oobetetPlan) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = p.room.Run(ctx)
	}()
	defer func() { <-done }()
	defer cancel()
	t := time.NewTimer(oobetetReadyWait)
	defer t.Stop()
	select {
	case <-p.room.Ready():
	case <-t.C:
	case <-ctx.Done():
		return nil
	}
	return p.o.Run(ctx)
}

// portNumber reads the port key of [gateways.oobetet], which v2 accepted as a
// number or a string: 0 when unset.
func portNumber(v any) (int, error) {
	var n float64
	switch p := v.(type) {
	case nil:
		return 0, nil
	case float64:
		n = p
	case json.Number:
		f, err := p.Float64()
		if err != nil {
			return 0, fmt.Errorf("port: %q is not a TCP port", p)
		}
		n = f
	case string:
		i, err := strconv.Atoi(p)
		if err != nil {
			return 0, fmt.Errorf("port: %q is not a TCP port", p)
		}
		n = float64(i)
	default:
		return 0, fmt.Errorf("port: %v is not a TCP port", v)
	}
	if n != math.Trunc(n) || n < 0 || n > 65535 {
		return 0, fmt.Errorf("port: %v is not a TCP port", v)
	}
	return int(n), nil
}
