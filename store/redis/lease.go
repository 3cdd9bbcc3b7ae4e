package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack/store"
)

// Leases are the strings "lease:<name>" (after Prefix) holding their owner,
// with the ttl as the key's expiry, so that the server's clock alone decides
// when a lease lapses: hosts with skewed clocks agree on it.

func (k keys) lease(name string) string { return k.prefix + "lease:" + name }

// renewLeaseScript restarts the ttl of a lease its owner holds. It returns 1
// when it did, 0 when the lease lapsed or is another's.
//
// KEYS: lease
// ARGV: owner, ttl in ms
var renewLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)

// releaseLeaseScript deletes a lease its owner holds.
//
// KEYS: lease
// ARGV: owner
var releaseLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

func leaseArgs(name, owner string, ttl time.Duration, needTTL bool) error {
	switch {
	case name == "":
		return errors.New("lease: empty name")
	case owner == "":
		return errors.New("lease: empty owner")
	case needTTL && ttl < time.Millisecond:
		return errors.New("lease: ttl must be at least 1 ms")
	}
	return nil
}

// AcquireLease implements store.Leaser with SET NX PX; when the lease is taken
// already, it is renewed if owner is the one holding it.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := leaseArgs(name, owner, ttl, true); err != nil {
		return false, err
	}
	ok, err := s.rdb.SetNX(ctx, s.k.lease(name), owner, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis store: acquire lease %q: %w", name, err)
	}
	if ok {
		return true, nil
	}
	return s.RenewLease(ctx, name, owner, ttl)
}

// RenewLease implements store.Leaser.
func (s *Store) RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := leaseArgs(name, owner, ttl, true); err != nil {
		return false, err
	}
	n, err := renewLeaseScript.Run(ctx, s.rdb, []string{s.k.lease(name)}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("redis store: renew lease %q: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease implements store.Leaser.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := leaseArgs(name, owner, 0, false); err != nil {
		return err
	}
	if err := releaseLeaseScript.Run(ctx, s.rdb, []string{s.k.lease(name)}, owner).Err(); err != nil {
		return fmt.Errorf("redis store: release lease %q: %w", name, err)
	}
	return nil
}

var _ store.Leaser = (*Store)(nil)
