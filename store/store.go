// Package store defines how Flapjack keeps its records and moves work between its
// stages: checks with their history and maintenance, the routing data (contacts,
// media, rules), per-medium alert memory, statistics, and named FIFO queues.
//
// Every store — store/memory in-process, store/redis shared by many processes —
// implements Store and passes the conformance suite in store/storetest. Updates of
// one check or one medium are atomic read-modify-write operations: the callback sees
// the current record, and its changes, the history it appends and the messages it
// enqueues are written together or not at all. Two processes updating the same
// record never lose each other's change, and no global lock is taken.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/x/flapjack"
)

// ErrNotFound is returned for a record that does not exist. It is the same value as
// flapjack.ErrNotFound, so callers may test for either.
var ErrNotFound = flapjack.ErrNotFound

// ErrConflict is returned when a record would break a uniqueness rule, such as a
// second check with the same name.
var ErrConflict = errors.New("conflict")

// ErrClosed is returned (possibly wrapped) by the queues of a closed store. Loops
// that wait out store outages stop when they see it.
var ErrClosed = errors.New("store closed")

// Message is a payload to push onto a named queue.
type Message struct {
	Queue   string
	Payload []byte
}

// CheckUpdate is what an UpdateCheck callback sees and changes.
type CheckUpdate struct {
	// Check is the record as stored (a private copy); the callback changes it in place.
	Check flapjack.Check
	// Created is true when the check did not exist before this call. Its ID and
	// AckHash are already assigned, both unique.
	Created bool
	// History collects states to append to the check's history, oldest first.
	History []flapjack.State
	// Enqueue collects messages pushed in the same atomic write as the check.
	Enqueue []Message
}

// MediumUpdate is what an UpdateMediumState callback sees and changes.
type MediumUpdate struct {
	// State is the medium's alert memory; the callback changes it in place.
	State flapjack.MediumState
	// Enqueue collects messages pushed in the same atomic write as the state.
	Enqueue []Message
}

// CheckQuery selects checks. The zero value selects every check.
type CheckQuery struct {
	// Alertable, when true, selects only enabled checks that are alertable: the
	// candidates for rollup counting.
	Alertable bool
	// Failing, when true, selects only failing checks.
	Failing bool
}

// Checks keeps check records and their history.
type Checks interface {
	// UpdateCheck atomically reads the check named name, calls fn, and writes back
	// the check, the history fn appended and the messages fn enqueued. A missing
	// check is created (Created set) when create is true, else ErrNotFound is
	// returned. When fn returns an error nothing is written and that error is
	// returned. fn may not change the check's Name, ID or AckHash (they are the
	// record's keys): if it does, nothing is written and an error is returned.
	// fn may be called more than once (optimistic retries), so it must not have
	// side effects outside the CheckUpdate.
	UpdateCheck(ctx context.Context, name string, create bool, fn func(*CheckUpdate) error) (flapjack.Check, error)
	// Check returns the check named name.
	Check(ctx context.Context, name string) (flapjack.Check, error)
	// CheckByID returns the check with the given id.
	CheckByID(ctx context.Context, id string) (flapjack.Check, error)
	// CheckByAckHash returns the check with the given ack hash.
	CheckByAckHash(ctx context.Context, hash string) (flapjack.Check, error)
	// QueryChecks returns the selected checks sorted by name.
	QueryChecks(ctx context.Context, q CheckQuery) ([]flapjack.Check, error)
	// DeleteCheck removes a check and its history.
	DeleteCheck(ctx context.Context, name string) error
	// History returns the check's states, one per change of condition, oldest
	// first. The newest entry is as it was appended; the check's CurrentState is
	// its live copy.
	History(ctx context.Context, checkID string) ([]flapjack.State, error)
}

// CheckBatcher is implemented by stores that can update many checks at once,
// faster than one UpdateCheck after another: store/redis reads and writes a
// whole batch in three round trips. The processor uses it, when the store has it,
// for the events it takes off its queue together.
type CheckBatcher interface {
	// UpdateChecks makes, for each names[i], the update UpdateCheck(ctx,
	// names[i], create, fn bound to i) would make. Each check's update is atomic
	// on its own, with all the guarantees of UpdateCheck; the batch as a whole is
	// not: some checks may be written and others not.
	//
	// fn is called with i and the update of names[i], possibly more than once
	// for the same i (optimistic retries), but never by two goroutines at once.
	// When fn returns an error, check i is not written (nor created) and only it
	// fails.
	//
	// UpdateChecks returns nil when every check was written. Otherwise it
	// returns one error per name, nil for each check written. A failed check's
	// error is fn's error as fn returned it, one wrapping ErrNotFound (a missing
	// check without create), an error for a repeated or empty name, or the
	// store's: a check that failed because of the store was not written and may
	// be given again.
	UpdateChecks(ctx context.Context, names []string, create bool, fn func(i int, u *CheckUpdate) error) []error
}

// Archiver is implemented by stores that can keep payloads for a limited time,
// for the processor's optional archive of the events it takes.
type Archiver interface {
	// Archive pushes payloads, in order, onto the queue named list, as Push
	// would, and makes the whole list expire maxAge after this call (each call
	// sets the expiry anew). store/redis does both in one round trip with
	// LPUSH and EXPIRE; store/memory drops an expired list the next time
	// Archive is called.
	Archive(ctx context.Context, list string, maxAge time.Duration, payloads ...[]byte) error
}

// Routing is an immutable snapshot of the routing data. A store hands out the same
// snapshot until the data changes, so reading it is cheap; callers must not modify it.
type Routing struct {
	Contacts map[string]*flapjack.Contact
	Media    map[string]*flapjack.Medium
	// Rules in a stable order (by id).
	Rules []*flapjack.Rule
}

// RoutingData keeps contacts, media and rules.
type RoutingData interface {
	// Routing returns the current snapshot.
	Routing(ctx context.Context) (*Routing, error)
	// PutContact creates or replaces a contact.
	PutContact(ctx context.Context, c flapjack.Contact) error
	// DeleteContact removes a contact with its media and rules.
	DeleteContact(ctx context.Context, id string) error
	// PutMedium creates or replaces a medium; its contact must exist.
	PutMedium(ctx context.Context, m flapjack.Medium) error
	// DeleteMedium removes a medium, its alert memory, and its links from rules.
	DeleteMedium(ctx context.Context, id string) error
	// PutRule creates or replaces a rule; its contact and media must exist.
	PutRule(ctx context.Context, r flapjack.Rule) error
	// DeleteRule removes a rule.
	DeleteRule(ctx context.Context, id string) error
}

// MediumStates keeps the notifier's per-medium alert memory.
type MediumStates interface {
	// UpdateMediumState atomically reads the memory of medium id (zero when never
	// written), calls fn, and writes back the state and the messages fn enqueued.
	// When fn returns an error nothing is written. fn may be called more than once.
	UpdateMediumState(ctx context.Context, id string, fn func(*MediumUpdate) error) error
	// MediumState returns the memory of medium id, zero when never written.
	MediumState(ctx context.Context, id string) (flapjack.MediumState, error)
}

// Statistic is one processor instance's counters, or the global ones.
type Statistic struct {
	Instance  string    `json:"instance_name"`
	CreatedAt time.Time `json:"created_at"`
	flapjack.Statistics
}

// GlobalStatistic names the counters shared by all processor instances.
const GlobalStatistic = "global"

// StatisticsStore keeps processor counters.
type StatisticsStore interface {
	// AddStatistics adds d atomically to the global counters and to instance's.
	// An instance's record is created on first use with CreatedAt = now.
	AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error
	// Statistics returns every record, the global one first.
	Statistics(ctx context.Context) ([]Statistic, error)
	// DeleteStatistics removes an instance's record (at clean shutdown).
	DeleteStatistics(ctx context.Context, instance string) error
}

// Item is a payload taken from a queue, to be acknowledged once handled.
type Item struct {
	Payload []byte
	// Receipt identifies the reservation to the queue that handed the item out.
	Receipt string
}

// Queue is a FIFO of byte payloads shared by producers and consumers. A reserved
// item stays the consumer's until it is acknowledged; a store that survives a crash
// hands unacknowledged items out again, so consumers must tolerate duplicates.
type Queue interface {
	// Push appends payloads in order.
	Push(ctx context.Context, payloads ...[]byte) error
	// Reserve takes up to max items, oldest first. With block it waits until at
	// least one is available or ctx ends; without, it returns at once, possibly with
	// none.
	Reserve(ctx context.Context, max int, block bool) ([]Item, error)
	// Ack marks items as handled.
	Ack(ctx context.Context, items ...Item) error
	// Len is the number of items waiting (not counting reserved ones).
	Len(ctx context.Context) (int64, error)
}

// Queues hands out queues by name.
type Queues interface {
	Queue(name string) Queue
}

// Store is everything Flapjack keeps.
type Store interface {
	Checks
	RoutingData
	MediumStates
	StatisticsStore
	Queues
	// Close releases the store's resources.
	Close() error
}
