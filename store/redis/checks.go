package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// callbackError carries the error of a caller's callback through go-redis'
// Watch, so that it is returned as it is, not as a failure of the store.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// txError is what an optimistic update returns for err: the callback's own
// error, ErrNotFound as it is, and anything else wrapped with what was done.
func txError(err error, format string, args ...any) error {
	if ce, ok := errors.AsType[callbackError](err); ok {
		return ce.err
	}
	if err == nil || errors.Is(err, store.ErrNotFound) {
		return err
	}
	return fmt.Errorf("redis store: "+format+": %w", append(args, err)...)
}

// optimistic runs fn in a WATCH on keys until its EXEC goes through, another
// error ends it, or Options.TxRetries attempts met concurrent writers. Between
// attempts it waits a little, at random, so that writers of one hot record do not
// keep colliding.
func (s *Store) optimistic(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	for attempt := range s.opts.TxRetries {
		err := s.rdb.Watch(ctx, fn, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return err
		}
		ceiling := min(100*time.Microsecond<<min(attempt, 10), 20*time.Millisecond)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(ceiling)):
		}
	}
	return ErrContended
}

// UpdateCheck implements store.Checks.
func (s *Store) UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error) {
	if name == "" {
		return flapjack.Check{}, errors.New("update check: empty name")
	}
	key := s.k.check(name)
	// A new check's ack hash is claimed before the transaction, so that it is
	// unique across processes, and kept over retries; it is given back unless the
	// check was written with it.
	var claimedID, claimedHash string
	claimUsed := false
	defer func() {
		if claimedHash != "" && !claimUsed {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			s.rdb.HDel(ctx, s.k.checksByAckHash(), claimedHash)
		}
	}()

	var result flapjack.Check
	err := s.optimistic(ctx, func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, key).Bytes()
		exists := err == nil
		if err != nil && err != redis.Nil {
			return err
		}
		var u store.CheckUpdate
		if exists {
			if u.Check, err = decodeCheck(raw); err != nil {
				return fmt.Errorf("decode check: %w", err)
			}
		} else {
			if !create {
				return fmt.Errorf("check %q: %w", name, store.ErrNotFound)
			}
			if claimedHash == "" {
				if claimedID, claimedHash, err = s.claimAckHash(ctx, tx, name); err != nil {
					return err
				}
			}
			u.Created = true
			u.Check = flapjack.Check{Name: name, Enabled: true, ID: claimedID, AckHash: claimedHash}
		}
		id, hash := u.Check.ID, u.Check.AckHash
		if err := fn(&u); err != nil {
			return callbackError{err}
		}
		if u.Check.Name != name || u.Check.ID != id || u.Check.AckHash != hash {
			return fmt.Errorf("the callback may not change the name, id or ack hash")
		}
		doc, err := encodeCheck(&u.Check)
		if err != nil {
			return fmt.Errorf("encode check: %w", err)
		}
		history := make([]any, len(u.History))
		for i, st := range u.History {
			if history[i], err = encodeState(&st); err != nil {
				return fmt.Errorf("encode history: %w", err)
			}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, doc, 0)
			if u.Created {
				p.HSet(ctx, s.k.checksByID(), id, name)
				p.HSet(ctx, s.k.checksByAckHash(), hash, name)
				p.ZAdd(ctx, s.k.checkNames(), redis.Z{Member: name})
			}
			if len(history) > 0 {
				p.RPush(ctx, s.k.history(id), history...)
			}
			if u.Check.Alertable && u.Check.Enabled {
				p.SAdd(ctx, s.k.checksAlertable(), name)
			} else {
				p.SRem(ctx, s.k.checksAlertable(), name)
			}
			for _, m := range u.Enqueue {
				s.pushCmds(ctx, p, m.Queue, m.Payload)
			}
			return nil
		})
		if err == nil {
			claimUsed = u.Created
			result = u.Check.Clone() // the callback may keep u
		}
		return err
	}, key)
	if err != nil {
		return flapjack.Check{}, txError(err, "update check %q", name)
	}
	return result, nil
}

// claimAckHash picks a new check id whose ack hash no other check, in any
// process, holds or is claiming, and claims the hash. It runs on the
// transaction's connection (the claim does not touch a watched key): taking a
// second connection from the pool while holding one could exhaust it.
func (s *Store) claimAckHash(ctx context.Context, tx *redis.Tx, name string) (id, hash string, err error) {
	for {
		id := s.newID()
		hash := ackHash(id)
		ok, err := tx.HSetNX(ctx, s.k.checksByAckHash(), hash, name).Result()
		if err != nil {
			return "", "", fmt.Errorf("claim ack hash: %w", err)
		}
		if ok {
			return id, hash, nil
		}
		if err := ctx.Err(); err != nil {
			return "", "", err
		}
	}
}

// Check implements store.Checks.
func (s *Store) Check(ctx context.Context, name string) (flapjack.Check, error) {
	raw, err := s.rdb.Get(ctx, s.k.check(name)).Bytes()
	if err == redis.Nil {
		return flapjack.Check{}, fmt.Errorf("check %q: %w", name, store.ErrNotFound)
	}
	if err != nil {
		return flapjack.Check{}, fmt.Errorf("redis store: check %q: %w", name, err)
	}
	c, err := decodeCheck(raw)
	if err != nil {
		return flapjack.Check{}, fmt.Errorf("redis store: decode check %q: %w", name, err)
	}
	return c, nil
}

// CheckByID implements store.Checks.
func (s *Store) CheckByID(ctx context.Context, id string) (flapjack.Check, error) {
	return s.checkBy(ctx, s.k.checksByID(), id, "id", func(c *flapjack.Check) string { return c.ID })
}

// CheckByAckHash implements store.Checks.
func (s *Store) CheckByAckHash(ctx context.Context, hash string) (flapjack.Check, error) {
	return s.checkBy(ctx, s.k.checksByAckHash(), hash, "ack hash", func(c *flapjack.Check) string { return c.AckHash })
}

// checkBy looks a check up through an index. The check found must carry the
// value looked up: the index may name a check deleted and created anew meanwhile,
// or hold the claim of a creation that is still running or never finished.
func (s *Store) checkBy(ctx context.Context, index, value, what string, field func(*flapjack.Check) string) (flapjack.Check, error) {
	notFound := fmt.Errorf("check with %s %q: %w", what, value, store.ErrNotFound)
	name, err := s.rdb.HGet(ctx, index, value).Result()
	if err == redis.Nil {
		return flapjack.Check{}, notFound
	}
	if err != nil {
		return flapjack.Check{}, fmt.Errorf("redis store: check with %s %q: %w", what, value, err)
	}
	c, err := s.Check(ctx, name)
	if errors.Is(err, store.ErrNotFound) || err == nil && field(&c) != value {
		return flapjack.Check{}, notFound
	}
	return c, err
}

// QueryChecks implements store.Checks.
func (s *Store) QueryChecks(ctx context.Context, q store.CheckQuery) ([]flapjack.Check, error) {
	var names []string
	var err error
	if q.Alertable {
		names, err = s.rdb.SMembers(ctx, s.k.checksAlertable()).Result()
	} else {
		names, err = s.rdb.ZRange(ctx, s.k.checkNames(), 0, -1).Result()
	}
	if err != nil {
		return nil, fmt.Errorf("redis store: query checks: %w", err)
	}
	out := make([]flapjack.Check, 0, len(names))
	const chunk = 500
	for len(names) > 0 {
		batch := names[:min(chunk, len(names))]
		names = names[len(batch):]
		ks := make([]string, len(batch))
		for i, n := range batch {
			ks[i] = s.k.check(n)
		}
		docs, err := s.rdb.MGet(ctx, ks...).Result()
		if err != nil {
			return nil, fmt.Errorf("redis store: query checks: %w", err)
		}
		for i, d := range docs {
			doc, ok := d.(string)
			if !ok {
				continue // deleted meanwhile
			}
			c, err := decodeCheck([]byte(doc))
			if err != nil {
				return nil, fmt.Errorf("redis store: decode check %q: %w", batch[i], err)
			}
			if q.Failing && !c.Failing || q.Alertable && !(c.Alertable && c.Enabled) {
				continue
			}
			out = append(out, c)
		}
	}
	// ZRANGE orders by bytes, as strings.Compare does; keep the order explicit.
	slices.SortFunc(out, func(a, b flapjack.Check) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteCheck implements store.Checks.
func (s *Store) DeleteCheck(ctx context.Context, name string) error {
	key := s.k.check(name)
	err := s.optimistic(ctx, func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, key).Bytes()
		if err == redis.Nil {
			return fmt.Errorf("check %q: %w", name, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		c, err := decodeCheck(raw)
		if err != nil {
			return fmt.Errorf("decode check: %w", err)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key, s.k.history(c.ID), s.k.decisions(c.ID))
			p.HDel(ctx, s.k.checksByID(), c.ID)
			p.HDel(ctx, s.k.checksByAckHash(), c.AckHash)
			p.SRem(ctx, s.k.checksAlertable(), name)
			p.ZRem(ctx, s.k.checkNames(), name)
			return nil
		})
		return err
	}, key)
	return txError(err, "delete check %q", name)
}

// History implements store.Checks.
func (s *Store) History(ctx context.Context, checkID string) ([]flapjack.State, error) {
	var exists *redis.BoolCmd
	var entries *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.HExists(ctx, s.k.checksByID(), checkID)
		entries = p.LRange(ctx, s.k.history(checkID), 0, -1)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis store: history of %q: %w", checkID, err)
	}
	if !exists.Val() {
		return nil, fmt.Errorf("check id %q: %w", checkID, store.ErrNotFound)
	}
	out := make([]flapjack.State, len(entries.Val()))
	for i, e := range entries.Val() {
		var err error
		if out[i], err = decodeState([]byte(e)); err != nil {
			return nil, fmt.Errorf("redis store: decode history of %q: %w", checkID, err)
		}
	}
	return out, nil
}
