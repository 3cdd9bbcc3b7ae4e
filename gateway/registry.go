package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/x/flapjack"
)

// Config is one gateway's configuration section, decoded on demand by the gateway
// that owns it, so that the registry needs to know nothing about any gateway's
// settings. A section of the TOML configuration file implements it by decoding
// itself into v; [MapConfig] implements it for programs and tests.
type Config interface {
	// Decode stores the section's values in v, a pointer to the gateway's own
	// config struct. A key the struct does not declare is an error naming it, so
	// that a misspelt setting is not silently ignored; the host removes the keys
	// it handles itself (enabled, queue, templates) before handing the section on.
	Decode(v any) error
}

// MapConfig is a Config held as a map, decoded through a JSON round trip: v's
// fields are matched by their json tags, and keys v lacks are errors. A nil
// MapConfig leaves v unchanged.
type MapConfig map[string]any

// Decode implements Config.
func (m MapConfig) Decode(v any) error {
	b, err := json.Marshal(map[string]any(m))
	if err != nil {
		return fmt.Errorf("decode config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode config: %s", strings.TrimPrefix(strings.Replace(err.Error(), "unknown field", "unknown key", 1), "json: "))
	}
	return nil
}

// Env is what the host program lends every gateway. [New] fills zero fields with
// defaults, so a factory may use every field without checking it.
type Env struct {
	// Logger receives the gateway's own log lines. Default: discards them.
	Logger *slog.Logger
	// Clock is the only source of time. Default: flapjack.SystemClock.
	Clock flapjack.Clock
	// HTTPClient is shared by HTTP gateways, so that transport settings and test
	// servers are set in one place. Default: http.DefaultClient.
	HTTPClient *http.Client
	// Templates renders every message text. Default: DefaultTemplates().
	Templates *Templates
}

// WithDefaults returns e with its zero fields set to their defaults. Gateways
// constructed directly, without [New], call it themselves.
func (e Env) WithDefaults() Env {
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	if e.Clock == nil {
		e.Clock = flapjack.SystemClock{}
	}
	if e.HTTPClient == nil {
		e.HTTPClient = http.DefaultClient
	}
	if e.Templates == nil {
		e.Templates = DefaultTemplates()
	}
	return e
}

// Factory builds a gateway from its configuration section. It should validate the
// whole section and report every problem at once.
type Factory func(cfg Config, env Env) (Gateway, error)

// ErrUnknownTransport is returned by New for a transport nobody registered.
var ErrUnknownTransport = errors.New("unknown gateway transport")

var registry = struct {
	sync.RWMutex
	factories map[string]Factory
}{factories: map[string]Factory{}}

// Register makes a gateway type available under a transport name (the medium's
// transport, such as "email" or "webhook"). It is meant to be called from the init
// function of the package implementing the gateway, and panics on an empty name, a
// nil factory or a name already taken, since each is a programming error.
func Register(transport string, f Factory) {
	if transport == "" {
		panic("gateway: Register with an empty transport name")
	}
	if f == nil {
		panic("gateway: Register of transport " + transport + " with a nil factory")
	}
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.factories[transport]; dup {
		panic("gateway: Register called twice for transport " + transport)
	}
	registry.factories[transport] = f
}

// New builds a gateway of the registered transport from its configuration. Zero
// fields of env are set to their defaults first (see [Env.WithDefaults]).
func New(transport string, cfg Config, env Env) (Gateway, error) {
	registry.RLock()
	f := registry.factories[transport]
	registry.RUnlock()
	if f == nil {
		known := Transports()
		list := "none registered"
		if len(known) > 0 {
			list = "known: " + strings.Join(known, ", ")
		}
		return nil, fmt.Errorf("%w %q (%s)", ErrUnknownTransport, transport, list)
	}
	if cfg == nil {
		cfg = MapConfig(nil)
	}
	g, err := f(cfg, env.WithDefaults())
	if err != nil {
		return nil, fmt.Errorf("gateway %s: %w", transport, err)
	}
	return g, nil
}

// Transports lists the registered transport names, sorted.
func Transports() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.factories))
	for name := range registry.factories {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
