package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

var _ store.HistoryPurger = (*Store)(nil)

// PurgeHistory implements store.HistoryPurger as an optimistic transaction
// watching both the check and its history: it reads them, keeps what
// store.Purgeable keeps, and rewrites the history list in one MULTI/EXEC. An
// update of the check meanwhile (which may append to the history) makes it
// start again on the new record, so no appended state is lost.
func (s *Store) PurgeHistory(ctx context.Context, checkID string, before time.Time) (int, error) {
	notFound := fmt.Errorf("check id %q: %w", checkID, store.ErrNotFound)
	name, err := s.rdb.HGet(ctx, s.k.checksByID(), checkID).Result()
	if err == redis.Nil {
		return 0, notFound
	}
	if err != nil {
		return 0, fmt.Errorf("redis store: purge history of %q: %w", checkID, err)
	}
	key, hkey := s.k.check(name), s.k.history(checkID)
	var purged int
	err = s.optimistic(ctx, func(tx *redis.Tx) error {
		purged = 0
		raw, err := tx.Get(ctx, key).Bytes()
		if err == redis.Nil {
			return notFound
		}
		if err != nil {
			return err
		}
		c, err := decodeCheck(raw)
		if err != nil {
			return fmt.Errorf("decode check: %w", err)
		}
		if c.ID != checkID { // deleted and created anew meanwhile
			return notFound
		}
		entries, err := tx.LRange(ctx, hkey, 0, -1).Result()
		if err != nil {
			return err
		}
		history := make([]flapjack.State, len(entries))
		for i, e := range entries {
			if history[i], err = decodeState([]byte(e)); err != nil {
				return fmt.Errorf("decode history: %w", err)
			}
		}
		purge := store.Purgeable(&c, history, before)
		kept := make([]any, 0, len(entries))
		for i, e := range entries {
			if !purge[i] {
				kept = append(kept, e) // as stored, not encoded anew
			}
		}
		if len(kept) == len(entries) {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, hkey)
			if len(kept) > 0 {
				p.RPush(ctx, hkey, kept...)
			}
			return nil
		})
		if err == nil {
			purged = len(entries) - len(kept)
		}
		return err
	}, key, hkey)
	if err != nil {
		return 0, txError(err, "purge history of %q", checkID)
	}
	return purged, nil
}
