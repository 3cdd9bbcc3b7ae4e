package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// DeadLetterQueue names the queue holding the dead letters of the alert queue
// named queue: "<queue>_dead", e.g. "sms_notifications_dead".
func DeadLetterQueue(queue string) string { return queue + "_dead" }

// DeadLetter is the record of an alert the delivery layer gave up on, as kept, in
// JSON, on the dead-letter queue of the alert's queue.
type DeadLetter struct {
	// Alert is the alert as it was queued, when its payload was JSON.
	Alert json.RawMessage `json:"alert,omitempty"`
	// Payload is a queued payload that was not JSON at all (base64 in the
	// record), kept so that nothing is lost.
	Payload []byte `json:"payload,omitempty"`
	// Transport is the gateway that failed to deliver it.
	Transport string `json:"transport"`
	// Error is the last attempt's error. Gateways keep credentials out of their
	// errors, so it is safe to show.
	Error string `json:"error"`
	// Permanent is true when the error was a permanent one, which a re-drive
	// will meet again unless something was fixed.
	Permanent bool `json:"permanent"`
	// Attempts is the number of attempts made; 0 for an unreadable payload.
	Attempts int `json:"attempts"`
	// FirstAttempt and LastAttempt are when the first and the last attempt
	// began (for an unreadable payload, when it was read).
	FirstAttempt time.Time `json:"first_attempt"`
	LastAttempt  time.Time `json:"last_attempt"`
}

func newDeadLetter(payload []byte, transport string, err error, attempts int, first, last time.Time) DeadLetter {
	dl := DeadLetter{
		Transport: transport, Error: err.Error(), Permanent: IsPermanent(err),
		Attempts: attempts, FirstAttempt: first, LastAttempt: last,
	}
	if json.Valid(payload) {
		dl.Alert = json.RawMessage(append([]byte(nil), payload...))
	} else {
		dl.Payload = append([]byte(nil), payload...)
	}
	return dl
}

// DecodeAlert decodes the dead letter's alert.
func (dl DeadLetter) DecodeAlert() (*flapjack.Alert, error) {
	if dl.Alert == nil {
		return nil, errors.New("dead letter holds no alert: its payload was not JSON")
	}
	var a flapjack.Alert
	if err := json.Unmarshal(dl.Alert, &a); err != nil {
		return nil, fmt.Errorf("dead letter alert: %w", err)
	}
	return &a, nil
}

// queued is the payload that was queued, to queue again.
func (dl DeadLetter) queued() []byte {
	if dl.Alert != nil {
		return dl.Alert
	}
	return dl.Payload
}

// DeadLetters returns up to max dead letters of the alert queue named queue
// (all of them when max ≤ 0), oldest first, leaving them in place.
//
// Stores' queues cannot be read without taking from them, so DeadLetters takes
// the whole dead-letter queue and puts it back, in order, before acknowledging
// what it took: it suits the short queues dead letters should make. On a store
// that survives a crash, a crash in between leaves letters twice, never loses
// one; letters dead-lettered meanwhile may come before those put back. A record
// that is not a dead letter is returned with only Payload and Error set.
func DeadLetters(ctx context.Context, queues store.Queues, queue string, max int) ([]DeadLetter, error) {
	q := queues.Queue(DeadLetterQueue(queue))
	items, err := take(ctx, q, 0)
	if err != nil || len(items) == 0 {
		return nil, err
	}
	payloads := make([][]byte, len(items))
	for i, it := range items {
		payloads[i] = it.Payload
	}
	if err := finish(ctx, q, items, payloads); err != nil {
		return nil, err
	}
	if max > 0 && len(items) > max {
		items = items[:max]
	}
	out := make([]DeadLetter, len(items))
	for i, it := range items {
		if err := json.Unmarshal(it.Payload, &out[i]); err != nil {
			out[i] = DeadLetter{Payload: it.Payload, Error: fmt.Sprintf("not a dead-letter record: %v", err)}
		}
	}
	return out, nil
}

// Redrive moves up to n dead letters of the alert queue named queue (all of
// them when n ≤ 0), oldest first, back onto that queue, where its delivery takes
// them again with a fresh count of attempts. It returns how many it moved. A
// record that is not a dead letter stays on the dead-letter queue and is
// reported in the error.
//
// The alerts are pushed before the dead letters are acknowledged: on a store
// that survives a crash, a crash in between may deliver an alert twice, never
// lose it.
func Redrive(ctx context.Context, queues store.Queues, queue string, n int) (int, error) {
	dead := queues.Queue(DeadLetterQueue(queue))
	items, err := take(ctx, dead, n)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	var alerts, keep [][]byte
	for _, it := range items {
		var dl DeadLetter
		if err := json.Unmarshal(it.Payload, &dl); err != nil || dl.queued() == nil {
			keep = append(keep, it.Payload)
			continue
		}
		alerts = append(alerts, dl.queued())
	}
	if len(alerts) > 0 {
		fctx, cancel := finishing(ctx)
		err := queues.Queue(queue).Push(fctx, alerts...)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("redrive %q: %w", queue, err)
		}
	}
	if err := finish(ctx, dead, items, keep); err != nil {
		return len(alerts), err
	}
	if len(keep) > 0 {
		return len(alerts), fmt.Errorf("redrive %q: %d records of %q are not dead letters; left there", queue, len(keep), DeadLetterQueue(queue))
	}
	return len(alerts), nil
}

// take reserves up to n items of q (all those waiting when n ≤ 0) without
// blocking.
func take(ctx context.Context, q store.Queue, n int) ([]store.Item, error) {
	if n <= 0 {
		l, err := q.Len(ctx)
		if err != nil {
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		n = int(l)
	}
	var out []store.Item
	for len(out) < n {
		items, err := q.Reserve(ctx, n-len(out), false)
		if err != nil {
			if len(out) > 0 {
				break // deal with what was taken, which would otherwise be lost in memory
			}
			return nil, fmt.Errorf("dead letters: %w", err)
		}
		if len(items) == 0 {
			break
		}
		out = append(out, items...)
	}
	return out, nil
}

// finish pushes payloads back onto q, then acknowledges items.
func finish(ctx context.Context, q store.Queue, items []store.Item, payloads [][]byte) error {
	fctx, cancel := finishing(ctx)
	defer cancel()
	if len(payloads) > 0 {
		if err := q.Push(fctx, payloads...); err != nil {
			return fmt.Errorf("dead letters: put back: %w", err)
		}
	}
	if err := q.Ack(fctx, items...); err != nil {
		return fmt.Errorf("dead letters: acknowledge: %w", err)
	}
	return nil
}
