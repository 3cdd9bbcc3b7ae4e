package store

import (
	"context"
	"time"
)

// Leaser hands out named leases: locks that expire by themselves, so that one
// job among many processes sharing a store (polling PagerDuty for
// acknowledgements, for one) runs in one of them at a time, and a holder that
// died frees its lease once the ttl has passed.
//
// Owners are opaque strings; each holder picks one no other uses (a random id).
// A lease is held from a successful AcquireLease until its ttl has passed or its
// owner releases it. Every store in this module implements Leaser; it is a
// separate interface so that a store of another kind can do without.
type Leaser interface {
	// AcquireLease takes the lease name for owner for ttl and reports whether
	// it got it: true when nobody held it, or when owner already held it (its
	// ttl then starts again, as with RenewLease); false when another owner
	// holds it.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// RenewLease starts ttl again on a lease owner holds, and reports whether
	// it still held it: false when the lease expired or another owner holds
	// it, which is then left alone.
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLease frees the lease name if owner holds it, and does nothing
	// otherwise, so that a holder whose lease expired cannot free another's.
	ReleaseLease(ctx context.Context, name, owner string) error
}
