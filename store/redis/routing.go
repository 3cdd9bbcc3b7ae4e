package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// Routing implements store.RoutingData. The snapshot is kept in the process and
// read again only when the routing version, bumped by every write from any
// process, has moved: the notifier asks for it once per notification.
func (s *Store) Routing(ctx context.Context) (*store.Routing, error) {
	v, err := s.rdb.Get(ctx, s.k.routingVersion()).Int64()
	if err != nil && err != redis.Nil {
		return nil, fmt.Errorf("redis store: routing version: %w", err)
	}
	s.routingMu.Lock()
	r, cached := s.routing, s.routingVersion
	s.routingMu.Unlock()
	if r != nil && cached == v {
		return r, nil
	}

	var version *redis.StringCmd
	var hashes [3]*redis.MapStringStringCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		version = p.Get(ctx, s.k.routingVersion())
		for i, key := range []string{s.k.contacts(), s.k.media(), s.k.rules()} {
			hashes[i] = p.HGetAll(ctx, key)
		}
		return nil
	})
	if err != nil && err != redis.Nil {
		return nil, fmt.Errorf("redis store: read routing: %w", err)
	}
	d, err := decodeRouting(hashes[0].Val(), hashes[1].Val(), hashes[2].Val())
	if err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	v, _ = strconv.ParseInt(version.Val(), 10, 64)
	r = d.snapshot()
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if s.routing == nil || v >= s.routingVersion {
		s.routing, s.routingVersion = r, v
	}
	return r, nil
}

// routingData is the routing records of one transaction, with the writes to make.
type routingData struct {
	contacts map[string]flapjack.Contact
	media    map[string]flapjack.Medium
	rules    map[string]flapjack.Rule

	writes       []routingWrite
	deletedMedia []string
}

// routingWrite sets (or, with a nil doc, deletes) field id of hash.
type routingWrite struct {
	hash, id string
	doc      []byte
}

func decodeRouting(contacts, media, rules map[string]string) (*routingData, error) {
	d := &routingData{
		contacts: make(map[string]flapjack.Contact, len(contacts)),
		media:    make(map[string]flapjack.Medium, len(media)),
		rules:    make(map[string]flapjack.Rule, len(rules)),
	}
	for id, doc := range contacts {
		var c flapjack.Contact
		if err := json.Unmarshal([]byte(doc), &c); err != nil {
			return nil, fmt.Errorf("decode contact %q: %w", id, err)
		}
		d.contacts[id] = c
	}
	for id, doc := range media {
		var m flapjack.Medium
		if err := json.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("decode medium %q: %w", id, err)
		}
		d.media[id] = m
	}
	for id, doc := range rules {
		var r flapjack.Rule
		if err := json.Unmarshal([]byte(doc), &r); err != nil {
			return nil, fmt.Errorf("decode rule %q: %w", id, err)
		}
		d.rules[id] = r
	}
	return d, nil
}

func (d *routingData) snapshot() *store.Routing {
	r := &store.Routing{
		Contacts: make(map[string]*flapjack.Contact, len(d.contacts)),
		Media:    make(map[string]*flapjack.Medium, len(d.media)),
		Rules:    make([]*flapjack.Rule, 0, len(d.rules)),
	}
	for id, c := range d.contacts {
		r.Contacts[id] = &c
	}
	for id, m := range d.media {
		r.Media[id] = &m
	}
	for _, rule := range d.rules {
		r.Rules = append(r.Rules, &rule)
	}
	slices.SortFunc(r.Rules, func(a, b *flapjack.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return r
}

// updateRouting runs fn on the routing records in an optimistic transaction and
// writes what it changed, with the version bump that tells every process's
// snapshot cache to read again. Routing writes are rare and the records few, so
// each reads them all: that keeps the reference checks and cascades in Go.
func (s *Store) updateRouting(ctx context.Context, what string, fn func(*routingData) error) error {
	hashes := []string{s.k.contacts(), s.k.media(), s.k.rules()}
	err := s.optimistic(ctx, func(tx *redis.Tx) error {
		var cmds [3]*redis.MapStringStringCmd
		_, err := tx.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, key := range hashes {
				cmds[i] = p.HGetAll(ctx, key)
			}
			return nil
		})
		if err != nil {
			return err
		}
		d, err := decodeRouting(cmds[0].Val(), cmds[1].Val(), cmds[2].Val())
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return callbackError{err}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			for _, w := range d.writes {
				if w.doc == nil {
					p.HDel(ctx, w.hash, w.id)
				} else {
					p.HSet(ctx, w.hash, w.id, w.doc)
				}
			}
			for _, id := range d.deletedMedia {
				p.Del(ctx, s.k.mediumState(id))
			}
			p.Incr(ctx, s.k.routingVersion())
			return nil
		})
		return err
	}, hashes...)
	return txError(err, "%s", what)
}

func (d *routingData) write(hash, id string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	d.writes = append(d.writes, routingWrite{hash: hash, id: id, doc: doc})
	return nil
}

func (d *routingData) remove(hash, id string) {
	d.writes = append(d.writes, routingWrite{hash: hash, id: id})
}

// PutContact implements store.RoutingData.
func (s *Store) PutContact(ctx context.Context, c flapjack.Contact) error {
	if c.ID == "" {
		return fmt.Errorf("put contact: empty id")
	}
	return s.updateRouting(ctx, "put contact "+strconv.Quote(c.ID), func(d *routingData) error {
		return d.write(s.k.contacts(), c.ID, c)
	})
}

// DeleteContact implements store.RoutingData.
func (s *Store) DeleteContact(ctx context.Context, id string) error {
	return s.updateRouting(ctx, "delete contact "+strconv.Quote(id), func(d *routingData) error {
		if _, ok := d.contacts[id]; !ok {
			return fmt.Errorf("contact %q: %w", id, store.ErrNotFound)
		}
		d.remove(s.k.contacts(), id)
		for rid, r := range d.rules {
			if r.ContactID == id {
				delete(d.rules, rid)
				d.remove(s.k.rules(), rid)
			}
		}
		for mid, m := range d.media {
			if m.ContactID == id {
				if err := s.deleteMedium(d, mid); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// PutMedium implements store.RoutingData.
func (s *Store) PutMedium(ctx context.Context, m flapjack.Medium) error {
	if m.ID == "" {
		return fmt.Errorf("put medium: empty id")
	}
	return s.updateRouting(ctx, "put medium "+strconv.Quote(m.ID), func(d *routingData) error {
		if _, ok := d.contacts[m.ContactID]; !ok {
			return fmt.Errorf("medium %q: contact %q: %w", m.ID, m.ContactID, store.ErrNotFound)
		}
		return d.write(s.k.media(), m.ID, m)
	})
}

// DeleteMedium implements store.RoutingData.
func (s *Store) DeleteMedium(ctx context.Context, id string) error {
	return s.updateRouting(ctx, "delete medium "+strconv.Quote(id), func(d *routingData) error {
		if _, ok := d.media[id]; !ok {
			return fmt.Errorf("medium %q: %w", id, store.ErrNotFound)
		}
		return s.deleteMedium(d, id)
	})
}

// deleteMedium removes medium id, its links from every rule (another contact's
// rules may link it too) and its alert memory.
func (s *Store) deleteMedium(d *routingData, id string) error {
	delete(d.media, id)
	d.remove(s.k.media(), id)
	d.deletedMedia = append(d.deletedMedia, id)
	for rid, r := range d.rules {
		if slices.Contains(r.MediaIDs, id) {
			r.MediaIDs = slices.DeleteFunc(r.MediaIDs, func(m string) bool { return m == id })
			d.rules[rid] = r
			if err := d.write(s.k.rules(), rid, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// PutRule implements store.RoutingData.
func (s *Store) PutRule(ctx context.Context, r flapjack.Rule) error {
	if r.ID == "" {
		return fmt.Errorf("put rule: empty id")
	}
	return s.updateRouting(ctx, "put rule "+strconv.Quote(r.ID), func(d *routingData) error {
		if _, ok := d.contacts[r.ContactID]; !ok {
			return fmt.Errorf("rule %q: contact %q: %w", r.ID, r.ContactID, store.ErrNotFound)
		}
		for _, mid := range r.MediaIDs {
			if _, ok := d.media[mid]; !ok {
				return fmt.Errorf("rule %q: medium %q: %w", r.ID, mid, store.ErrNotFound)
			}
		}
		return d.write(s.k.rules(), r.ID, r)
	})
}

// DeleteRule implements store.RoutingData.
func (s *Store) DeleteRule(ctx context.Context, id string) error {
	return s.updateRouting(ctx, "delete rule "+strconv.Quote(id), func(d *routingData) error {
		if _, ok := d.rules[id]; !ok {
			return fmt.Errorf("rule %q: %w", id, store.ErrNotFound)
		}
		d.remove(s.k.rules(), id)
		return nil
	})
}
