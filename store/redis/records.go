package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// UpdateMediumState implements store.MediumStates.
func (s *Store) UpdateMediumState(ctx context.Context, id string, fn func(*store.MediumUpdate) error) error {
	key := s.k.mediumState(id)
	err := s.optimistic(ctx, func(tx *redis.Tx) error {
		var u store.MediumUpdate
		raw, err := tx.Get(ctx, key).Bytes()
		switch {
		case err == nil:
			if err := json.Unmarshal(raw, &u.State); err != nil {
				return fmt.Errorf("decode: %w", err)
			}
		case err != redis.Nil:
			return err
		}
		if err := fn(&u); err != nil {
			return callbackError{err}
		}
		doc, err := json.Marshal(u.State)
		if err != nil {
			return fmt.Errorf("encode: %w", err)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, doc, 0)
			for _, m := range u.Enqueue {
				s.pushCmds(ctx, p, m.Queue, m.Payload)
			}
			return nil
		})
		return err
	}, key)
	return txError(err, "update state of medium %q", id)
}

// MediumState implements store.MediumStates.
func (s *Store) MediumState(ctx context.Context, id string) (flapjack.MediumState, error) {
	var m flapjack.MediumState
	raw, err := s.rdb.Get(ctx, s.k.mediumState(id)).Bytes()
	if err == redis.Nil {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("redis store: state of medium %q: %w", id, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("redis store: decode state of medium %q: %w", id, err)
	}
	return m, nil
}

// Statistic hash fields, as Flapjack v2 names the counters.
const (
	fieldCreatedAt     = "created_at"
	fieldAllEvents     = "all_events"
	fieldOKEvents      = "ok_events"
	fieldFailureEvents = "failure_events"
	fieldActionEvents  = "action_events"
	fieldInvalidEvents = "invalid_events"
)

func counters(d *flapjack.Statistics) []struct {
	field string
	value *int64
} {
	return []struct {
		field string
		value *int64
	}{
		{fieldAllEvents, &d.AllEvents},
		{fieldOKEvents, &d.OKEvents},
		{fieldFailureEvents, &d.FailureEvents},
		{fieldActionEvents, &d.ActionEvents},
		{fieldInvalidEvents, &d.InvalidEvents},
	}
}

// AddStatistics implements store.StatisticsStore. HINCRBY in one MULTI makes the
// counters of many processors add up rather than overwrite each other.
func (s *Store) AddStatistics(ctx context.Context, instance string, now time.Time, d flapjack.Statistics) error {
	names := []string{store.GlobalStatistic, instance}
	if instance == store.GlobalStatistic {
		names = names[:1] // add once, not twice
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, name := range names {
			key := s.k.statistic(name)
			p.HSetNX(ctx, key, fieldCreatedAt, now.Format(time.RFC3339Nano))
			for _, c := range counters(&d) {
				p.HIncrBy(ctx, key, c.field, *c.value)
			}
			p.SAdd(ctx, s.k.statistics(), name)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis store: add statistics of %q: %w", instance, err)
	}
	return nil
}

// Statistics implements store.StatisticsStore.
func (s *Store) Statistics(ctx context.Context) ([]store.Statistic, error) {
	names, err := s.rdb.SMembers(ctx, s.k.statistics()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis store: statistics: %w", err)
	}
	cmds := make([]*redis.MapStringStringCmd, len(names))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, name := range names {
			cmds[i] = p.HGetAll(ctx, s.k.statistic(name))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redis store: statistics: %w", err)
	}
	out := make([]store.Statistic, 0, len(names))
	for i, name := range names {
		h := cmds[i].Val()
		if len(h) == 0 {
			continue // deleted meanwhile
		}
		st := store.Statistic{Instance: name}
		if st.CreatedAt, err = time.Parse(time.RFC3339Nano, h[fieldCreatedAt]); err != nil {
			return nil, fmt.Errorf("redis store: statistics of %q: created_at: %w", name, err)
		}
		for _, c := range counters(&st.Statistics) {
			if *c.value, err = strconv.ParseInt(h[c.field], 10, 64); err != nil {
				return nil, fmt.Errorf("redis store: statistics of %q: %s: %w", name, c.field, err)
			}
		}
		out = append(out, st)
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
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.k.statistic(instance))
		p.SRem(ctx, s.k.statistics(), instance)
		return nil
	})
	if err != nil {
		return fmt.Errorf("redis store: delete statistics of %q: %w", instance, err)
	}
	return nil
}
