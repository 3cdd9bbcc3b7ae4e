package memory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// leaseTable is one store's leases and the clock they expire by.
type leaseTable struct {
	once   sync.Once
	mu     sync.Mutex
	clock  flapjack.Clock
	leases map[string]lease
}

type lease struct {
	owner   string
	expires time.Time
}

func (s *Store) leaseTable() *leaseTable {
	t := &s.leases
	t.once.Do(func() {
		t.clock = flapjack.SystemClock{}
		t.leases = map[string]lease{}
	})
	return t
}

// SetLeaseClock sets the clock by which the store's leases expire, so that
// tests can let a lease lapse without waiting. Default: the system clock.
func (s *Store) SetLeaseClock(c flapjack.Clock) {
	t := s.leaseTable()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.clock = c
}

func checkLease(ctx context.Context, name, owner string, ttl time.Duration, needTTL bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch {
	case name == "":
		return errors.New("lease: empty name")
	case owner == "":
		return errors.New("lease: empty owner")
	case needTTL && ttl <= 0:
		return errors.New("lease: ttl must be positive")
	}
	return nil
}

// AcquireLease implements store.Leaser.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := checkLease(ctx, name, owner, ttl, true); err != nil {
		return false, err
	}
	return s.leaseTable().take(name, owner, ttl, true), nil
}

// RenewLease implements store.Leaser.
func (s *Store) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := checkLease(ctx, name, owner, ttl, true); err != nil {
		return false, err
	}
	return s.leaseTable().take(name, owner, ttl, false), nil
}

// ReleaseLease implements store.Leaser.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := checkLease(ctx, name, owner, 0, false); err != nil {
		return err
	}
	t := s.leaseTable()
	t.mu.Lock()
	defer t.mu.Unlock()
	if l, ok := t.leases[name]; ok && l.owner == owner {
		delete(t.leases, name)
	}
	return nil
}

// take gives name to owner for ttl if owner holds it, or, when free is set,
// if nobody does.
func (t *leaseTable) take(name, owner string, ttl time.Duration, free bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.clock.Now()
	l, held := t.leases[name]
	if held && !now.Before(l.expires) {
		delete(t.leases, name)
		held = false
	}
	if held && l.owner != owner || !held && !free {
		return false
	}
	t.leases[name] = lease{owner: owner, expires: now.Add(ttl)}
	return true
}

var _ store.Leaser = (*Store)(nil)
