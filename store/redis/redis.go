// Package redisstore is the store.Store shared by many Flapjack processes on many
// hosts through a Redis server, a Sentinel-managed master or a Redis Cluster.
//
// # Queues
//
// Queues are Flapjack's lists: the queue "events" is the list "events" (after the
// optional Prefix); producers LPUSH, consumers take from the right. Items taken
// by Reserve move, in the same server-side step, to this consumer's in-flight
// list "<queue>:inflight:<ConsumerID>" and stay there until Ack, so an item is
// never lost with the process that took it: New pushes back, to the head of the
// line and in order, what an earlier process with the same ConsumerID left
// behind; and every consumer sends heartbeats, so that any other pushes back
// the items of one whose heartbeat stopped for ConsumerTimeout. Items moved by a
// reservation whose reply was lost in a network failure are pushed back too,
// once everything reserved with them has been acknowledged. Consumers must
// therefore tolerate the odd duplicate.
//
// An empty queue is waited on with BLMOVE, on a connection of its own so that
// waits never starve the pool, so events from producers that never push the
// "<queue>_actions" wake token are taken at once. That wake list is trimmed as
// items are taken, so it cannot grow without bound. Cancelling the context or
// closing the store interrupts a wait at once (CLIENT UNBLOCK).
//
// # Records
//
// Checks, medium states and routing data are JSON documents (times in RFC 3339
// with nanoseconds and their offset). UpdateCheck and UpdateMediumState are
// optimistic transactions: WATCH the record, read it, run the callback, and
// write the record, its history, its indexes and the messages the callback
// enqueued in one MULTI/EXEC; when another writer got there first, the callback
// runs again on a fresh copy. No lock is ever taken.
//
// UpdateChecks (store.CheckBatcher) makes the same atomic update for a whole
// batch of checks in few round trips: WATCH the checks, read them with one MGET,
// run the callbacks, and write every check with its history, indexes and
// messages in one MULTI/EXEC. When another writer changed one of them meanwhile,
// the batch is read again and written by a script that compares each check with
// what was read and writes only those that did not change, so that one busy
// check does not hold up the others; a check still contended after a few rounds
// is updated on its own with UpdateCheck. Check documents and history entries
// are encoded and decoded by hand, in exactly encoding/json's form.
//
// Archive (store.Archiver) pushes onto a list and sets its expiry in one
// MULTI/EXEC, for the processor's optional event archive.
//
// # Keys
//
// After Prefix:
//
//	check:<name>                     string  a check (JSON)
//	check_history:<check id>         list    its states, oldest first (JSON)
//	decisions:<check id>             list    its decision log, newest first (see decisions.go)
//	checks:names                     zset    every check name (score 0, so sorted by name)
//	checks:by_id                     hash    check id → name
//	checks:by_ack_hash               hash    ack hash → name
//	checks:alertable                 set     names of enabled, alertable checks
//	routing:contacts|media|rules     hash    id → record (JSON)
//	routing:version                  string  counter, incremented by every routing write
//	medium_state:<medium id>         string  the notifier's memory of a medium (JSON)
//	statistics                       set     instance names with counters, "global" included
//	statistic:<instance>             hash    counters and created_at
//	consumers                        zset    consumer id → last heartbeat (server time, ms)
//	consumer:<id>:inflight           hash    in-flight list → its queue, for recovery
//	<queue>                          list    a queue
//	<queue>_actions                  list    Flapjack v2 wake tokens
//	<queue>:inflight:<id>[:<n>]      list    items reserved by consumer id, not yet acknowledged
//	<queue>_archive:<YYYYMMDDHH>     list    archived events (processor option), with an expiry
package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack/store"
)

// ErrClosed is returned by the queues of a closed store.
var ErrClosed = fmt.Errorf("redis %w", store.ErrClosed)

// ErrContended is returned when an optimistic transaction met a concurrent
// writer of the same record on every one of its Options.TxRetries attempts.
var ErrContended = errors.New("record updated concurrently too often")

// Store is a store.Store in Redis, safe for concurrent use.
type Store struct {
	opts Options
	k    keys

	// rdb runs ordinary commands; qdb runs the scripts that move queue items,
	// never retried, since a lost reply would move them twice; wdb lends the
	// connections that blocking waits hold, from a pool of their own so that
	// waiting consumers never starve the others.
	rdb redis.UniversalClient
	qdb redis.UniversalClient
	wdb redis.UniversalClient

	routingMu      sync.Mutex
	routing        *store.Routing
	routingVersion int64

	queuesMu sync.Mutex
	queues   map[string]*consumerQueue

	waitersMu sync.Mutex
	waiters   []*waiter // idle blocking connections

	// closing ends when Close starts; tasks counts the background loop and the
	// blocking waits Close lets finish before closing the clients.
	closing   context.Context
	stop      context.CancelFunc
	closeMu   sync.Mutex
	closed    bool
	tasks     sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	// newID makes check ids; replaceable in tests to force ack hash collisions.
	newID func() string
}

var _ store.Store = (*Store)(nil)

// New connects to Redis, pushes back onto their queues the items this consumer
// and any dead one left reserved (see Recover), and starts the heartbeat. It
// fails when Redis cannot be reached, so that a wrong address or password shows
// at start-up; afterwards the store rides out outages by itself.
func New(ctx context.Context, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("redis store: %w", err)
	}
	s := &Store{
		opts:   opts,
		k:      keys{prefix: opts.Prefix},
		rdb:    redis.NewUniversalClient(opts.universal(opts.MaxRetries)),
		qdb:    redis.NewUniversalClient(opts.universal(-1)),
		wdb:    redis.NewUniversalClient(opts.waits()),
		queues: map[string]*consumerQueue{},
		newID:  uuid.NewString,
	}
	s.closing, s.stop = context.WithCancel(context.Background())
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		s.Close()
		return nil, fmt.Errorf("redis store: connect to %v: %w", opts.Addrs, err)
	}
	if err := s.heartbeat(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("redis store: %w", err)
	}
	if err := s.Recover(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("redis store: %w", err)
	}
	s.tasks.Add(1)
	go s.heartbeatLoop()
	return s, nil
}

// NewFromURL is New with options parsed by ParseURL.
func NewFromURL(ctx context.Context, rawURL string) (*Store, error) {
	opts, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	return New(ctx, opts)
}

// ConsumerID is the id under which this store reserves queue items.
func (s *Store) ConsumerID() string { return s.opts.ConsumerID }

// Close interrupts blocking Reserve calls (they return ErrClosed), stops the
// heartbeat and closes the connections. Items reserved and not acknowledged stay
// in the in-flight lists: the next store with the same ConsumerID, or any
// consumer once ConsumerTimeout has passed, pushes them back.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closeMu.Lock()
		s.closed = true
		s.closeMu.Unlock()
		s.stop()
		s.tasks.Wait()
		s.dropWaiters()
		s.closeErr = errors.Join(s.rdb.Close(), s.qdb.Close(), s.wdb.Close())
	})
	return s.closeErr
}

// startTask counts a task Close must wait for, unless the store is closed.
func (s *Store) startTask() bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return false
	}
	s.tasks.Add(1)
	return true
}

// IsUnavailable reports whether err means Redis could not be reached or cannot
// serve right now (connection refused or lost, timeouts, a server loading its
// data, a failover or cluster reconfiguration in progress): a condition worth
// retrying after a pause, as opposed to a bad request.
func IsUnavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrPoolExhausted) {
		return true
	}
	for _, prefix := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "READONLY", "NOREPLICAS"} {
		if redis.HasErrorPrefix(err, prefix) {
			return true
		}
	}
	return false
}

// ackHash is the first 8 hex digits of SHA-1 over a check id.
func ackHash(id string) string {
	sum := sha1.Sum([]byte(id))
	return hex.EncodeToString(sum[:4])
}

// keys names every key the store uses; see the package doc.
type keys struct{ prefix string }

func (k keys) check(name string) string     { return k.prefix + "check:" + name }
func (k keys) history(id string) string     { return k.prefix + "check_history:" + id }
func (k keys) decisions(id string) string   { return k.prefix + "decisions:" + id }
func (k keys) checkNames() string           { return k.prefix + "checks:names" }
func (k keys) checksByID() string           { return k.prefix + "checks:by_id" }
func (k keys) checksByAckHash() string      { return k.prefix + "checks:by_ack_hash" }
func (k keys) checksAlertable() string      { return k.prefix + "checks:alertable" }
func (k keys) contacts() string             { return k.prefix + "routing:contacts" }
func (k keys) media() string                { return k.prefix + "routing:media" }
func (k keys) rules() string                { return k.prefix + "routing:rules" }
func (k keys) routingVersion() string       { return k.prefix + "routing:version" }
func (k keys) mediumState(id string) string { return k.prefix + "medium_state:" + id }
func (k keys) statistics() string           { return k.prefix + "statistics" }
func (k keys) statistic(inst string) string { return k.prefix + "statistic:" + inst }
func (k keys) consumers() string            { return k.prefix + "consumers" }
func (k keys) consumerInflight(id string) string {
	return k.prefix + "consumer:" + id + ":inflight"
}
func (k keys) queue(name string) string   { return k.prefix + name }
func (k keys) actions(name string) string { return k.prefix + name + "_actions" }

// inflight names consumer's in-flight list of queue name. Generation 0 is the
// plain name; a new generation starts when a reply was lost (see consumerQueue).
func (k keys) inflight(name, consumer string, gen int) string {
	key := k.prefix + name + ":inflight:" + consumer
	if gen > 0 {
		key += fmt.Sprintf(":%d", gen)
	}
	return key
}
