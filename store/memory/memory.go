// Package memory is the in-process store: every record in maps guarded by locks, and
// queues as in-memory FIFOs. It is the embedded default and what tests use. Nothing
// survives the process; for that, and for sharing between processes, use store/redis.
//
// Checks are spread over shards, each with its own lock, so processors running in
// parallel goroutines rarely wait for each other.
package memory

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

const shardCount = 64

// Store is an in-memory store.Store, safe for concurrent use.
type Store struct {
	seed   maphash.Seed
	shards [shardCount]shard

	// index maps ids and ack hashes to names; guarded by indexMu, taken after a
	// shard lock when both are needed.
	indexMu   sync.RWMutex
	byID      map[string]string
	byAckHash map[string]string
	alertable map[string]struct{}

	routingMu sync.Mutex
	contacts  map[string]flapjack.Contact
	media     map[string]flapjack.Medium
	rules     map[string]flapjack.Rule
	snapshot  *store.Routing

	mediumMu     sync.Mutex
	mediumStates map[string]flapjack.MediumState

	statsMu sync.Mutex
	stats   map[string]*store.Statistic

	leases leaseTable

	decisions decisionTable

	queuesMu sync.Mutex
	queues   map[string]*queue
	closed   bool // queues made after Close are born closed
	// expires holds when each archive list made by Archive expires.
	expires map[string]time.Time

	// newID makes record ids; replaceable in tests to force ack hash collisions.
	newID func() string
}

type shard struct {
	mu     sync.Mutex
	checks map[string]*entry
}

type entry struct {
	check   flapjack.Check
	history []flapjack.State
}

var (
	_ store.Store        = (*Store)(nil)
	_ store.CheckBatcher = (*Store)(nil)
	_ store.Archiver     = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	s := &Store{
		seed:         maphash.MakeSeed(),
		byID:         map[string]string{},
		byAckHash:    map[string]string{},
		alertable:    map[string]struct{}{},
		contacts:     map[string]flapjack.Contact{},
		media:        map[string]flapjack.Medium{},
		rules:        map[string]flapjack.Rule{},
		mediumStates: map[string]flapjack.MediumState{},
		stats:        map[string]*store.Statistic{},
		queues:       map[string]*queue{},
		expires:      map[string]time.Time{},
		newID:        func() string { return uuid.NewString() },
	}
	for i := range s.shards {
		s.shards[i].checks = map[string]*entry{}
	}
	return s
}

// Close drops nothing and always succeeds. Afterwards every queue, including one
// first named later, refuses pushes and hands out what it still holds, then
// ErrClosed; consumers blocked in Reserve wake up.
func (s *Store) Close() error {
	s.queuesMu.Lock()
	defer s.queuesMu.Unlock()
	s.closed = true
	for _, q := range s.queues {
		q.close()
	}
	return nil
}

func (s *Store) shard(name string) *shard {
	return &s.shards[maphash.String(s.seed, name)%shardCount]
}

// AckHash is the first 8 hex digits of SHA-1 over a check id.
func AckHash(id string) string {
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:4])
}

// UpdateCheck implements store.Checks.
func (s *Store) UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error) {
	if err := ctx.Err(); err != nil {
		return flapjack.Check{}, err
	}
	if name == "" {
		return flapjack.Check{}, fmt.Errorf("update check: empty name")
	}
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()

	e, ok := sh.checks[name]
	u := store.CheckUpdate{}
	if ok {
		u.Check = e.check.Clone()
	} else {
		if !create {
			return flapjack.Check{}, fmt.Errorf("check %q: %w", name, store.ErrNotFound)
		}
		u.Created = true
		u.Check = flapjack.Check{Name: name, Enabled: true}
		s.assignID(&u.Check)
	}
	id, ackHash := u.Check.ID, u.Check.AckHash
	abort := func(err error) (flapjack.Check, error) {
		if u.Created {
			s.releaseID(id, ackHash)
		}
		return flapjack.Check{}, err
	}
	if err := fn(&u); err != nil {
		return abort(err)
	}
	if u.Check.Name != name || u.Check.ID != id || u.Check.AckHash != ackHash {
		return abort(fmt.Errorf("update check %q: the callback may not change the name, id or ack hash", name))
	}
	// Whether the index of alertable checks holds the name: only updates of the
	// check change that, and they hold the shard's lock, as this one does.
	wasAlertable := ok && e.check.Alertable && e.check.Enabled
	if !ok {
		e = &entry{}
		sh.checks[name] = e
	}
	// The callback may keep references to what it put in u.Check, so the store
	// keeps its own copy.
	e.check = u.Check.Clone()
	if len(u.History) > 0 {
		for _, st := range u.History {
			e.history = append(e.history, st.Clone())
		}
	}
	if alertable := u.Check.Alertable && u.Check.Enabled; alertable != wasAlertable {
		s.indexMu.Lock()
		if alertable {
			s.alertable[name] = struct{}{}
		} else {
			delete(s.alertable, name)
		}
		s.indexMu.Unlock()
	}
	if err := s.enqueue(u.Enqueue); err != nil {
		return flapjack.Check{}, err
	}
	// u.Check is already a copy that nothing in the store refers to: handing it
	// back spares a third deep copy per update (the hot path of every event).
	return u.Check, nil
}

// UpdateChecks implements store.CheckBatcher: in memory an update costs no round
// trip, so it is one UpdateCheck after another.
func (s *Store) UpdateChecks(ctx context.Context, names []string, create bool, fn func(int, *store.CheckUpdate) error) []error {
	var errs []error
	seen := make(map[string]struct{}, len(names))
	for i, name := range names {
		var err error
		if _, dup := seen[name]; dup {
			err = fmt.Errorf("update check %q: named twice in one batch", name)
		} else {
			seen[name] = struct{}{}
			_, err = s.UpdateCheck(ctx, name, create, func(u *store.CheckUpdate) error { return fn(i, u) })
		}
		if err != nil {
			if errs == nil {
				errs = make([]error, len(names))
			}
			errs[i] = err
		}
	}
	return errs
}

// assignID gives a new check an id whose ack hash is not yet taken.
func (s *Store) assignID(c *flapjack.Check) {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	for {
		id := s.newID()
		h := AckHash(id)
		if _, taken := s.byAckHash[h]; taken {
			continue
		}
		if _, taken := s.byID[id]; taken {
			continue
		}
		c.ID, c.AckHash = id, h
		s.byID[id] = c.Name
		s.byAckHash[h] = c.Name
		return
	}
}

func (s *Store) releaseID(id, ackHash string) {
	s.indexMu.Lock()
	defer s.indexMu.Unlock()
	delete(s.byID, id)
	delete(s.byAckHash, ackHash)
}

// Check implements store.Checks.
func (s *Store) Check(ctx context.Context, name string) (flapjack.Check, error) {
	if err := ctx.Err(); err != nil {
		return flapjack.Check{}, err
	}
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.checks[name]
	if !ok {
		return flapjack.Check{}, fmt.Errorf("check %q: %w", name, store.ErrNotFound)
	}
	return e.check.Clone(), nil
}

// CheckByID implements store.Checks.
func (s *Store) CheckByID(ctx context.Context, id string) (flapjack.Check, error) {
	s.indexMu.RLock()
	name, ok := s.byID[id]
	s.indexMu.RUnlock()
	if !ok {
		return flapjack.Check{}, fmt.Errorf("check id %q: %w", id, store.ErrNotFound)
	}
	return s.Check(ctx, name)
}

// CheckByAckHash implements store.Checks.
func (s *Store) CheckByAckHash(ctx context.Context, hash string) (flapjack.Check, error) {
	s.indexMu.RLock()
	name, ok := s.byAckHash[hash]
	s.indexMu.RUnlock()
	if !ok {
		return flapjack.Check{}, fmt.Errorf("check with ack hash %q: %w", hash, store.ErrNotFound)
	}
	return s.Check(ctx, name)
}

// QueryChecks implements store.Checks.
func (s *Store) QueryChecks(ctx context.Context, q store.CheckQuery) ([]flapjack.Check, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []flapjack.Check
	if q.Alertable {
		s.indexMu.RLock()
		names := make([]string, 0, len(s.alertable))
		for n := range s.alertable {
			names = append(names, n)
		}
		s.indexMu.RUnlock()
		for _, n := range names {
			c, err := s.Check(ctx, n)
			if err != nil {
				continue // deleted meanwhile
			}
			if c.Alertable && c.Enabled && (!q.Failing || c.Failing) {
				out = append(out, c)
			}
		}
	} else {
		for i := range s.shards {
			sh := &s.shards[i]
			sh.mu.Lock()
			for _, e := range sh.checks {
				if !q.Failing || e.check.Failing {
					out = append(out, e.check.Clone())
				}
			}
			sh.mu.Unlock()
		}
	}
	slices.SortFunc(out, func(a, b flapjack.Check) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteCheck implements store.Checks.
func (s *Store) DeleteCheck(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.checks[name]
	if !ok {
		return fmt.Errorf("check %q: %w", name, store.ErrNotFound)
	}
	delete(sh.checks, name)
	s.indexMu.Lock()
	delete(s.byID, e.check.ID)
	delete(s.byAckHash, e.check.AckHash)
	delete(s.alertable, name)
	s.indexMu.Unlock()
	s.decisions.drop(e.check.ID)
	return nil
}

// History implements store.Checks.
func (s *Store) History(ctx context.Context, checkID string) ([]flapjack.State, error) {
	s.indexMu.RLock()
	name, ok := s.byID[checkID]
	s.indexMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("check id %q: %w", checkID, store.ErrNotFound)
	}
	sh := s.shard(name)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e, ok := sh.checks[name]
	if !ok {
		return nil, fmt.Errorf("check id %q: %w", checkID, store.ErrNotFound)
	}
	out := make([]flapjack.State, len(e.history))
	for i, st := range e.history {
		out[i] = st.Clone()
	}
	return out, nil
}

// Routing implements store.RoutingData.
func (s *Store) Routing(ctx context.Context) (*store.Routing, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if s.snapshot == nil {
		s.snapshot = s.buildSnapshot()
	}
	return s.snapshot, nil
}

func (s *Store) buildSnapshot() *store.Routing {
	r := &store.Routing{
		Contacts: make(map[string]*flapjack.Contact, len(s.contacts)),
		Media:    make(map[string]*flapjack.Medium, len(s.media)),
		Rules:    make([]*flapjack.Rule, 0, len(s.rules)),
	}
	for id, c := range s.contacts {
		r.Contacts[id] = &c
	}
	for id, m := range s.media {
		r.Media[id] = &m
	}
	for _, rule := range s.rules {
		r.Rules = append(r.Rules, &rule)
	}
	slices.SortFunc(r.Rules, func(a, b *flapjack.Rule) int { return cmp.Compare(a.ID, b.ID) })
	return r
}

// PutContact implements store.RoutingData.
func (s *Store) PutContact(ctx context.Context, c flapjack.Contact) error {
	if c.ID == "" {
		return fmt.Errorf("put contact: empty id")
	}
	c.Tags = slices.Clone(c.Tags)
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	s.contacts[c.ID] = c
	s.snapshot = nil
	return nil
}

// DeleteContact implements store.RoutingData.
func (s *Store) DeleteContact(ctx context.Context, id string) error {
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if _, ok := s.contacts[id]; !ok {
		return fmt.Errorf("contact %q: %w", id, store.ErrNotFound)
	}
	delete(s.contacts, id)
	for rid, r := range s.rules {
		if r.ContactID == id {
			delete(s.rules, rid)
		}
	}
	for mid, m := range s.media {
		if m.ContactID == id {
			s.deleteMedium(mid)
		}
	}
	s.snapshot = nil
	return nil
}

// PutMedium implements store.RoutingData.
func (s *Store) PutMedium(ctx context.Context, m flapjack.Medium) error {
	if m.ID == "" {
		return fmt.Errorf("put medium: empty id")
	}
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if _, ok := s.contacts[m.ContactID]; !ok {
		return fmt.Errorf("medium %q: contact %q: %w", m.ID, m.ContactID, store.ErrNotFound)
	}
	s.media[m.ID] = m
	s.snapshot = nil
	return nil
}

// DeleteMedium implements store.RoutingData.
func (s *Store) DeleteMedium(ctx context.Context, id string) error {
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if _, ok := s.media[id]; !ok {
		return fmt.Errorf("medium %q: %w", id, store.ErrNotFound)
	}
	s.deleteMedium(id)
	s.snapshot = nil
	return nil
}

// deleteMedium removes medium id, its links from every rule (another contact's
// rules may link it too) and its alert memory. The caller holds routingMu.
func (s *Store) deleteMedium(id string) {
	delete(s.media, id)
	for rid, r := range s.rules {
		if slices.Contains(r.MediaIDs, id) {
			// A fresh slice: the current snapshot still shares the old one.
			r.MediaIDs = slices.DeleteFunc(slices.Clone(r.MediaIDs), func(m string) bool { return m == id })
			s.rules[rid] = r
		}
	}
	s.mediumMu.Lock()
	delete(s.mediumStates, id)
	s.mediumMu.Unlock()
}

// PutRule implements store.RoutingData.
func (s *Store) PutRule(ctx context.Context, r flapjack.Rule) error {
	if r.ID == "" {
		return fmt.Errorf("put rule: empty id")
	}
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if _, ok := s.contacts[r.ContactID]; !ok {
		return fmt.Errorf("rule %q: contact %q: %w", r.ID, r.ContactID, store.ErrNotFound)
	}
	for _, mid := range r.MediaIDs {
		if _, ok := s.media[mid]; !ok {
			return fmt.Errorf("rule %q: medium %q: %w", r.ID, mid, store.ErrNotFound)
		}
	}
	r.Tags = slices.Clone(r.Tags)
	r.Conditions = slices.Clone(r.Conditions)
	r.MediaIDs = slices.Clone(r.MediaIDs)
	s.rules[r.ID] = r
	s.snapshot = nil
	return nil
}

// DeleteRule implements store.RoutingData.
func (s *Store) DeleteRule(ctx context.Context, id string) error {
	s.routingMu.Lock()
	defer s.routingMu.Unlock()
	if _, ok := s.rules[id]; !ok {
		return fmt.Errorf("rule %q: %w", id, store.ErrNotFound)
	}
	delete(s.rules, id)
	s.snapshot = nil
	return nil
}

// UpdateMediumState implements store.MediumStates.
func (s *Store) UpdateMediumState(ctx context.Context, id string, fn func(*store.MediumUpdate) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mediumMu.Lock()
	defer s.mediumMu.Unlock()
	u := store.MediumUpdate{State: cloneMediumState(s.mediumStates[id])}
	if err := fn(&u); err != nil {
		return err
	}
	s.mediumStates[id] = cloneMediumState(u.State)
	return s.enqueue(u.Enqueue)
}

// MediumState implements store.MediumStates.
func (s *Store) MediumState(ctx context.Context, id string) (flapjack.MediumState, error) {
	s.mediumMu.Lock()
	defer s.mediumMu.Unlock()
	return cloneMediumState(s.mediumStates[id]), nil
}

func cloneMediumState(m flapjack.MediumState) flapjack.MediumState {
	if m.LastState != nil {
		m.LastState = cloneState(m.LastState)
	}
	return m
}

// cloneState returns a deep copy of *s. A medium's state is copied twice per
// alert, so a state with little perfdata, the usual case, is copied into one
// allocation with it.
func cloneState(s *flapjack.State) *flapjack.State {
	if n := len(s.Perfdata); n > 0 && n <= 2 {
		c := new(struct {
			st flapjack.State
			pd [2]flapjack.PerfDatum
		})
		c.st = *s
		c.st.Perfdata = c.pd[:n:n] // capped: an append makes a new array
		copy(c.pd[:], s.Perfdata)
		return &c.st
	}
	st := s.Clone()
	return &st
}

// AddStatistics implements store.StatisticsStore.
func (s *Store) AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	names := []string{store.GlobalStatistic, instance}
	if instance == store.GlobalStatistic {
		names = names[:1] // add once, not twice
	}
	for _, name := range names {
		st, ok := s.stats[name]
		if !ok {
			st = &store.Statistic{Instance: name, CreatedAt: now}
			s.stats[name] = st
		}
		st.Add(d)
	}
	return nil
}

// Statistics implements store.StatisticsStore.
func (s *Store) Statistics(ctx context.Context) ([]store.Statistic, error) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	out := make([]store.Statistic, 0, len(s.stats))
	for _, st := range s.stats {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b store.Statistic) int {
		if a.Instance == store.GlobalStatistic {
			return -1
		}
		if b.Instance == store.GlobalStatistic {
			return 1
		}
		return cmp.Compare(a.Instance, b.Instance)
	})
	return out, nil
}

// DeleteStatistics implements store.StatisticsStore.
func (s *Store) DeleteStatistics(ctx context.Context, instance string) error {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	delete(s.stats, instance)
	return nil
}

func (s *Store) enqueue(msgs []store.Message) error {
	for _, m := range msgs {
		s.queue(m.Queue).push(m.Payload)
	}
	return nil
}
