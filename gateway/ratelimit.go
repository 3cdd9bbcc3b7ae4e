package gateway

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateKey says what one rate limiter of a delivery covers.
type RateKey string

// The rate keys.
const (
	// RatePerTransport limits all of a transport's attempts together: the
	// limit of a service that counts per account.
	RatePerTransport RateKey = "transport"
	// RatePerAddress gives each medium address its own limiter: the limit of
	// a service that counts per destination, such as PagerDuty's events per
	// integration key.
	RatePerAddress RateKey = "address"
)

// limiter is a token bucket, or one per address. Buckets are kept in memory
// only, so addresses (which may be credentials, like a PagerDuty integration
// key) are never logged or stored.
type limiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	one     *rate.Limiter            // RatePerTransport
	byKey   map[string]*rate.Limiter // RatePerAddress
	pruneAt int                      // size of byKey that triggers the next prune
}

// minPrune is the number of per-address buckets kept before any is pruned.
const minPrune = 1024

func newLimiter(perSecond float64, burst int, key RateKey) *limiter {
	l := &limiter{limit: rate.Limit(perSecond), burst: burst}
	if key == RatePerAddress {
		l.byKey, l.pruneAt = map[string]*rate.Limiter{}, minPrune
	} else {
		l.one = rate.NewLimiter(l.limit, burst)
	}
	return l
}

// reserve takes a token for one attempt to address at now, and returns how long
// the attempt must wait for it and a function that gives the token back when
// the attempt is abandoned while it waits.
func (l *limiter) reserve(address string, now time.Time) (time.Duration, func(time.Time)) {
	l.mu.Lock()
	lim := l.one
	if l.byKey != nil {
		lim = l.byKey[address]
		if lim == nil {
			if len(l.byKey) >= l.pruneAt {
				l.prune(now)
			}
			lim = rate.NewLimiter(l.limit, l.burst)
			l.byKey[address] = lim
		}
	}
	l.mu.Unlock()
	r := lim.ReserveN(now, 1) // burst ≥ 1, so always OK
	return r.DelayFrom(now), r.CancelAt
}

// prune forgets the buckets that are full again: a new bucket behaves the same,
// so nothing is lost. Pruning only once the map has doubled keeps its cost
// constant per address.
func (l *limiter) prune(now time.Time) {
	for k, lim := range l.byKey {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.byKey, k)
		}
	}
	l.pruneAt = max(minPrune, 2*len(l.byKey))
}

// buckets is the number of per-address buckets held, for tests.
func (l *limiter) buckets() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byKey)
}
