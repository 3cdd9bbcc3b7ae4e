package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store"
)

// reload reads the configuration file again and applies it: the set-up data is
// applied in place, and only the components whose settings changed are
// restarted. A configuration that does not validate, or whose gateways cannot be
// built, is logged and the running one kept.
func (d *server) reload(ctx context.Context) {
	d.mu.Lock()
	prev := d.cur
	d.mu.Unlock()
	path := prev.cfg.Path
	if path == "" {
		d.log.Warn("SIGHUP: no configuration file to reload; the embedded default runs on")
		return
	}
	d.log.Info("reloading the configuration", "file", path)
	cfg, err := config.Load(path)
	var next *plan
	if err == nil {
		next, err = d.build(cfg, prev)
	}
	if err != nil {
		d.log.Error("configuration not reloaded; the running one is kept", "file", path, "err", err)
		return
	}
	for _, w := range cfg.Warnings() {
		d.log.Warn(w)
	}
	d.warnFixed(prev.cfg, cfg)
	if err := d.applySetup(ctx, prev, next); err != nil {
		d.log.Error("set-up data not applied", "file", next.setupName, "err", err)
	}
	changed := d.apply(prev, next)
	moved, err := d.intake.update(next)
	if err != nil {
		d.log.Error("event intake not moved; it goes on where it was", "err", err)
	}
	if moved {
		changed = append(changed, "event intake")
	}
	if changed == nil {
		changed = []string{}
	}
	d.log.Info("configuration reloaded", "file", path, "restarted", changed)
}

// warnFixed warns of changed settings that only a restart applies.
func (d *server) warnFixed(prev, next *config.Config) {
	if fingerprint(prev.Redis) != fingerprint(next.Redis) {
		d.log.Warn("[redis] changed: restart flapjack to apply it; the running store is kept", "where", next.Where("redis"))
	}
	if prev.Logger.Format != next.Logger.Format {
		d.log.Warn("[logger] format changed: restart flapjack to apply it", "where", next.Where("logger.format"))
	}
}

// applySetup applies next's set-up data, and removes the contacts, media and
// rules that prev's data defined and next's no longer does. Checks are kept:
// they have a history.
func (d *server) applySetup(ctx context.Context, prev, next *plan) error {
	if next.setup == nil {
		return nil
	}
	if err := next.setup.Apply(ctx, d.st); err != nil {
		return err
	}
	if prev != nil && prev.setup != nil {
		if err := removeDropped(ctx, d.st, prev.setup, next.setup); err != nil {
			return err
		}
	}
	d.log.Info("set-up data loaded", "file", next.setupName, "checks", len(next.setup.Checks), "contacts", len(next.setup.Contacts))
	return nil
}

// removeDropped deletes from s the contacts, media and rules of old that now
// does not have.
func removeDropped(ctx context.Context, s store.RoutingData, old, now *setup.Data) error {
	contacts, media, rules := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range now.Contacts {
		contacts[c.ID] = true
		for _, m := range c.Media {
			media[m.ID] = true
		}
		for _, r := range c.Rules {
			rules[r.ID] = true
		}
	}
	var errs []error
	del := func(what, id string, f func(context.Context, string) error) {
		if err := f(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			errs = append(errs, fmt.Errorf("remove %s %q: %w", what, id, err))
		}
	}
	for _, c := range old.Contacts {
		for _, r := range c.Rules {
			if !rules[r.ID] {
				del("rule", r.ID, s.DeleteRule)
			}
		}
		for _, m := range c.Media {
			if !media[m.ID] {
				del("medium", m.ID, s.DeleteMedium)
			}
		}
		if !contacts[c.ID] {
			del("contact", c.ID, s.DeleteContact)
		}
	}
	return errors.Join(errs...)
}

// fingerprint is the JSON of vs: equal settings have equal fingerprints (maps'
// keys are sorted).
func fingerprint(vs ...any) string {
	b, err := json.Marshal(vs)
	if err != nil {
		return fmt.Sprintf("unprintable %v", err) // never equal to a JSON text
	}
	return string(b)
}
