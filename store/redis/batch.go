package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

var _ store.CheckBatcher = (*Store)(nil)

// batchAttempts is how many attempts UpdateChecks makes at the checks of a batch
// together (a transaction, then the script for those that met concurrent
// writers) before it updates those still left one by one with UpdateCheck, so
// that a hot check cannot hold a batch up.
const batchAttempts = 3

// Statuses of a check in the reply of writeChecksScript.
const (
	statusConflict  = 0 // changed since it was read: read it again and retry
	statusWritten   = 1
	statusHashTaken = 2 // a new check whose ack hash another check holds
)

// writeChecksScript writes the checks of a batch, each only if it is still as
// it was read (compare-and-set on the whole document), with its history, its
// indexes and the messages of its update. A check that changed meanwhile is
// left alone, and only it: the others of the batch are written all the same. It
// returns one status per check.
//
// KEYS: checks:names, checks:by_id, checks:by_ack_hash, checks:alertable, the
// queues (each followed by its wake list when ARGV[2] is "1"), then for each
// check its key and its history's.
// ARGV: the number of checks, "1" to push wake tokens, the index in KEYS of the
// first check's key, then for each check: "c" (create: must not exist) or "u"
// (update: must be as read), the document read ("" for "c"), the document to
// write, the name, the id, the ack hash, "+"/"-"/"" to add it to, remove it
// from or leave the alertable set, the number of history entries h, the number
// of messages m, the h entries, and m pairs of (queue's index in KEYS, payload).
var writeChecksScript = redis.NewScript(`
local n = tonumber(ARGV[1])
local wake = ARGV[2] == '1'
local k = tonumber(ARGV[3])
local a = 4
local out = {}
for c = 1, n do
  local key, hist = KEYS[k], KEYS[k + 1]
  k = k + 2
  local mode, old, doc, name = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local id, hash, alert = ARGV[a + 4], ARGV[a + 5], ARGV[a + 6]
  local nh, nm = tonumber(ARGV[a + 7]), tonumber(ARGV[a + 8])
  a = a + 9
  local cur = redis.call('GET', key)
  local status = 0
  if mode == 'u' and cur == old then
    status = 1
  elseif mode == 'c' and not cur then
    if redis.call('HSETNX', KEYS[3], hash, name) == 1 then
      redis.call('HSET', KEYS[2], id, name)
      redis.call('ZADD', KEYS[1], 0, name)
      status = 1
    else
      status = 2
    end
  end
  if status == 1 then
    redis.call('SET', key, doc)
    for h = a, a + nh - 1, 1000 do -- unpack is limited to a few thousand values
      redis.call('RPUSH', hist, unpack(ARGV, h, math.min(h + 999, a + nh - 1)))
    end
    if alert == '+' then
      redis.call('SADD', KEYS[4], name)
    elseif alert == '-' then
      redis.call('SREM', KEYS[4], name)
    end
    for m = a + nh, a + nh + 2 * nm - 1, 2 do
      local q = tonumber(ARGV[m])
      redis.call('LPUSH', KEYS[q], ARGV[m + 1])
      if wake then
        redis.call('LPUSH', KEYS[q + 1], '+')
      end
    end
  end
  a = a + nh + 2 * nm
  out[c] = status
end
return out
`)

// batchCheck is one check of an UpdateChecks call.
type batchCheck struct {
	i   int    // index in names
	key string // the check's key
	// id and hash are those of a new check, kept over attempts until its hash
	// turns out to be taken.
	id, hash string
}

// checkWrite is what an attempt writes for one check.
type checkWrite struct {
	c       *batchCheck
	created bool
	old     string // the document read, for a check that existed
	doc     []byte
	name    string
	id      string
	hash    string
	alert   string // "+" to add to the alertable set, "-" to remove, "" neither
	history []any
	msgs    []store.Message
}

// UpdateChecks implements store.CheckBatcher in three round trips per batch
// (WATCH, MGET, MULTI/EXEC) when no other writer interferes.
//
// The first attempt is an optimistic transaction over the whole batch: WATCH
// every check, read them with one MGET, call fn for each, and write every check,
// its history, its indexes and its messages in one MULTI/EXEC. When another
// writer changed any of them meanwhile, EXEC writes nothing, and the next
// attempts read the checks again and write them with writeChecksScript, which
// compares each check with what was read and writes only those that did not
// change: one busy check does not hold up the others. A batch that creates
// checks goes to the script at once, since it claims each new check's ack hash
// in the same step. What still meets concurrent writers after batchAttempts is
// updated check by check with UpdateCheck, so that a hot check cannot starve
// the batch.
func (s *Store) UpdateChecks(ctx context.Context, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	var errs []error
	fail := func(i int, err error) {
		if errs == nil {
			errs = make([]error, len(names))
		}
		errs[i] = err
	}
	seen := make(map[string]struct{}, len(names))
	pending := make([]*batchCheck, 0, len(names))
	for i, name := range names {
		if name == "" {
			fail(i, errors.New("update check: empty name"))
			continue
		}
		if _, dup := seen[name]; dup {
			fail(i, fmt.Errorf("update check %q: named twice in one batch", name))
			continue
		}
		seen[name] = struct{}{}
		pending = append(pending, &batchCheck{i: i, key: s.k.check(name)})
	}

	w := &batchWrite{s: s, names: names, create: create, fn: fn, fail: fail}
	for attempt := 0; len(pending) > 0 && attempt < batchAttempts; attempt++ {
		if attempt > 0 {
			ceiling := 200 * time.Microsecond << attempt
			select {
			case <-ctx.Done():
				for _, c := range pending {
					fail(c.i, ctx.Err())
				}
				return errs
			case <-time.After(rand.N(ceiling)):
			}
		}
		var err error
		if attempt == 0 {
			pending, err = w.transaction(ctx, pending)
		} else {
			pending, err = w.compareAndSet(ctx, pending)
		}
		if err != nil {
			for _, c := range pending {
				fail(c.i, err)
			}
			return errs
		}
	}
	for _, c := range pending {
		i := c.i
		if _, err := s.UpdateCheck(ctx, names[i], create, func(u *store.CheckUpdate) error { return fn(i, u) }); err != nil {
			fail(i, err)
		}
	}
	return errs
}

// batchWrite is the state of an UpdateChecks call shared by its attempts.
type batchWrite struct {
	s      *Store
	names  []string
	create bool
	fn     func(int, *store.CheckUpdate) error
	fail   func(i int, err error)

	keys   []string
	writes []checkWrite
}

// transaction is the first attempt: see UpdateChecks. It returns the checks to
// try again and, on an error of the store, those it tried to write: none was
// written, unless the reply alone was lost, in which case all were (as with any
// command, the caller cannot tell).
func (w *batchWrite) transaction(ctx context.Context, pending []*batchCheck) (again []*batchCheck, err error) {
	s := w.s
	w.keys = w.keys[:0]
	for _, c := range pending {
		w.keys = append(w.keys, c.key)
	}
	tried := pending
	err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		docs, err := tx.MGet(ctx, w.keys...).Result()
		if err != nil {
			return err
		}
		w.update(pending, docs)
		tried = checksOf(w.writes)
		if len(w.writes) == 0 {
			return nil
		}
		for i := range w.writes {
			if w.writes[i].created {
				// The reads stay good for the script, which checks them.
				again, err = w.script(ctx)
				return err
			}
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			w.queueWrites(ctx, p)
			return nil
		})
		if errors.Is(err, redis.TxFailedErr) {
			again, err = tried, nil
		}
		return err
	}, w.keys...)
	if err != nil {
		return tried, fmt.Errorf("redis store: write checks: %w", err)
	}
	return again, nil
}

// compareAndSet is an attempt after a conflict: see UpdateChecks. It returns
// what transaction does.
func (w *batchWrite) compareAndSet(ctx context.Context, pending []*batchCheck) ([]*batchCheck, error) {
	w.keys = w.keys[:0]
	for _, c := range pending {
		w.keys = append(w.keys, c.key)
	}
	docs, err := w.s.rdb.MGet(ctx, w.keys...).Result()
	if err != nil {
		return pending, fmt.Errorf("redis store: read checks: %w", err)
	}
	w.update(pending, docs)
	if len(w.writes) == 0 {
		return nil, nil
	}
	again, err := w.script(ctx)
	if err != nil {
		return checksOf(w.writes), fmt.Errorf("redis store: write checks: %w", err)
	}
	return again, nil
}

func checksOf(writes []checkWrite) []*batchCheck {
	out := make([]*batchCheck, len(writes))
	for i := range writes {
		out[i] = writes[i].c
	}
	return out
}

// update decodes the documents read for the pending checks, calls fn for each
// and encodes what it left into w.writes. A check that fails here (fn's error,
// a missing check without create, a document that does not decode) is done:
// it fails, and has no write.
func (w *batchWrite) update(pending []*batchCheck, docs []any) {
	s := w.s
	w.writes = w.writes[:0]
	for n, c := range pending {
		name := w.names[c.i]
		var u store.CheckUpdate
		old, exists := docs[n].(string)
		wasAlertable := false
		if exists {
			var err error
			if u.Check, err = decodeCheckString(old); err != nil {
				w.fail(c.i, fmt.Errorf("redis store: decode check %q: %w", name, err))
				continue
			}
			wasAlertable = u.Check.Alertable && u.Check.Enabled
		} else {
			if !w.create {
				w.fail(c.i, fmt.Errorf("check %q: %w", name, store.ErrNotFound))
				continue
			}
			if c.id == "" {
				c.id = s.newID()
				c.hash = ackHash(c.id)
			}
			u.Created = true
			u.Check = flapjack.Check{Name: name, Enabled: true, ID: c.id, AckHash: c.hash}
		}
		id, hash := u.Check.ID, u.Check.AckHash
		if err := w.fn(c.i, &u); err != nil {
			w.fail(c.i, err)
			continue
		}
		if u.Check.Name != name || u.Check.ID != id || u.Check.AckHash != hash {
			w.fail(c.i, fmt.Errorf("update check %q: the callback may not change the name, id or ack hash", name))
			continue
		}
		cw := checkWrite{c: c, created: !exists, old: old, name: name, id: id, hash: hash, msgs: u.Enqueue}
		var err error
		if cw.doc, err = encodeCheck(&u.Check); err != nil {
			w.fail(c.i, fmt.Errorf("redis store: encode check %q: %w", name, err))
			continue
		}
		if len(u.History) > 0 {
			cw.history = make([]any, len(u.History))
			for h := range u.History {
				if cw.history[h], err = encodeState(&u.History[h]); err != nil {
					break
				}
			}
			if err != nil {
				w.fail(c.i, fmt.Errorf("redis store: encode history of %q: %w", name, err))
				continue
			}
		}
		switch isAlertable := u.Check.Alertable && u.Check.Enabled; {
		case isAlertable && (!wasAlertable || !exists):
			cw.alert = "+"
		case !isAlertable && wasAlertable:
			cw.alert = "-"
		}
		w.writes = append(w.writes, cw)
	}
}

// queueWrites queues on p, in a MULTI, every write of w.writes: existing checks
// only. The messages of the batch go in one LPUSH per queue, in their order.
func (w *batchWrite) queueWrites(ctx context.Context, p redis.Pipeliner) {
	s := w.s
	var queues []string
	payloads := map[string][]any{}
	for i := range w.writes {
		cw := &w.writes[i]
		p.Set(ctx, cw.c.key, cw.doc, 0)
		if len(cw.history) > 0 {
			p.RPush(ctx, s.k.history(cw.id), cw.history...)
		}
		switch cw.alert {
		case "+":
			p.SAdd(ctx, s.k.checksAlertable(), cw.name)
		case "-":
			p.SRem(ctx, s.k.checksAlertable(), cw.name)
		}
		for _, m := range cw.msgs {
			if _, ok := payloads[m.Queue]; !ok {
				queues = append(queues, m.Queue)
			}
			payloads[m.Queue] = append(payloads[m.Queue], m.Payload)
		}
	}
	for _, q := range queues {
		p.LPush(ctx, s.k.queue(q), payloads[q]...)
		if s.opts.WakeTokens {
			tokens := make([]any, len(payloads[q]))
			for i := range tokens {
				tokens[i] = "+"
			}
			p.LPush(ctx, s.k.actions(q), tokens...)
		}
	}
}

// script writes w.writes with writeChecksScript and returns the checks to try
// again: those changed since they were read, and new ones whose ack hash
// another check took.
func (w *batchWrite) script(ctx context.Context) ([]*batchCheck, error) {
	s := w.s
	keys := []string{s.k.checkNames(), s.k.checksByID(), s.k.checksByAckHash(), s.k.checksAlertable()}
	queues := map[string]int{}
	args := make([]any, 3, 3+12*len(w.writes))
	for i := range w.writes {
		cw := &w.writes[i]
		mode := "u"
		if cw.created {
			mode = "c"
		}
		args = append(args, mode, cw.old, cw.doc, cw.name, cw.id, cw.hash, cw.alert, len(cw.history), len(cw.msgs))
		args = append(args, cw.history...)
		for _, m := range cw.msgs {
			q, ok := queues[m.Queue]
			if !ok {
				keys = append(keys, s.k.queue(m.Queue))
				q = len(keys)
				if s.opts.WakeTokens {
					keys = append(keys, s.k.actions(m.Queue))
				}
				queues[m.Queue] = q
			}
			args = append(args, q, m.Payload)
		}
	}
	args[0] = len(w.writes)
	args[1] = "0"
	if s.opts.WakeTokens {
		args[1] = "1"
	}
	args[2] = len(keys) + 1
	for i := range w.writes {
		keys = append(keys, w.writes[i].c.key, s.k.history(w.writes[i].id))
	}
	// Never retried by go-redis: after a lost reply the checks would meet
	// themselves as concurrent writers and be updated twice without a word.
	statuses, err := writeChecksScript.Run(ctx, s.qdb, keys, args...).Int64Slice()
	if err == nil && len(statuses) != len(w.writes) {
		err = fmt.Errorf("%d statuses for %d checks", len(statuses), len(w.writes))
	}
	if err != nil {
		return nil, err
	}
	var again []*batchCheck
	for n, status := range statuses {
		c := w.writes[n].c
		switch status {
		case statusWritten:
		case statusHashTaken:
			c.id, c.hash = "", ""
			again = append(again, c)
		default:
			again = append(again, c)
		}
	}
	return again, nil
}

// Archive implements store.Archiver with LPUSH and EXPIRE in one transaction.
func (s *Store) Archive(ctx context.Context, list string, maxAge time.Duration, payloads ...[]byte) error {
	if len(payloads) == 0 {
		return nil
	}
	args := make([]any, len(payloads))
	for i, p := range payloads {
		args[i] = p
	}
	key := s.k.queue(list)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LPush(ctx, key, args...)
		p.PExpire(ctx, key, maxAge)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis store: archive to %q: %w", list, err)
	}
	return nil
}

var _ store.Archiver = (*Store)(nil)
