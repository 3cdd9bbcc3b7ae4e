package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/decisionwire"
	"github.com/x/flapjack/store"
)

var _ store.DecisionLog = (*Store)(nil)

// A check's decision log is the list "decisions:<check id>", newest first. Each
// entry is "<key>\n<count>\n<first time>\n<record>": the record's Key, how
// many decisions it stands for and when the first was made (Unix
// nanoseconds), kept in front of the latest decision (internal/decisionwire)
// so that appendDecisionsScript can merge without decoding it.

// appendDecisionsScript appends records to their checks' logs, merging a record
// into the newest entry when their keys are equal, and trims each log to
// ARGV[1] entries.
//
// KEYS: the log of each record, in order (a key may repeat)
// ARGV: size, then per record: key, count, first time, record
var appendDecisionsScript = redis.NewScript(`
local size = tonumber(ARGV[1])
for i = 1, #KEYS do
  local k, count, first, body = ARGV[4*i-2], tonumber(ARGV[4*i-1]), ARGV[4*i], ARGV[4*i+1]
  local head = redis.call('LINDEX', KEYS[i], 0)
  local hk, hc, hf
  if head then
    hk, hc, hf = string.match(head, '^([^\n]*)\n(%d+)\n([^\n]*)\n')
  end
  if hk == k then
    redis.call('LSET', KEYS[i], 0, k .. '\n' .. (tonumber(hc) + count) .. '\n' .. hf .. '\n' .. body)
  else
    redis.call('LPUSH', KEYS[i], k .. '\n' .. count .. '\n' .. first .. '\n' .. body)
    redis.call('LTRIM', KEYS[i], 0, size - 1)
  end
end
return #KEYS
`)

// AppendDecisions implements store.DecisionLog in one script call.
func (s *Store) AppendDecisions(ctx context.Context, recs ...flapjack.DecisionRecord) error {
	if len(recs) == 0 {
		return ctx.Err()
	}
	keys := make([]string, len(recs))
	args := make([]any, 1, 1+4*len(recs))
	args[0] = store.DecisionLogSize
	for i := range recs {
		r := recs[i]
		if r.Count < 1 {
			r.Count = 1
		}
		if r.Last.IsZero() {
			r.Last = r.Time
		}
		keys[i] = s.k.decisions(r.CheckID)
		args = append(args, r.Key(), r.Count, decisionwire.EncodeTime(r.Time), decisionwire.Append(nil, &r))
	}
	if err := appendDecisionsScript.Run(ctx, s.rdb, keys, args...).Err(); err != nil {
		return fmt.Errorf("redis store: append decisions: %w", err)
	}
	return nil
}

// Decisions implements store.DecisionLog.
func (s *Store) Decisions(ctx context.Context, checkID string) ([]flapjack.DecisionRecord, error) {
	entries, err := s.rdb.LRange(ctx, s.k.decisions(checkID), 0, store.DecisionLogSize-1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis store: decisions of %q: %w", checkID, err)
	}
	out := make([]flapjack.DecisionRecord, 0, len(entries))
	for _, e := range entries {
		r, err := decodeDecision(e)
		if err != nil {
			return nil, fmt.Errorf("redis store: decisions of %q: %w", checkID, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// decodeDecision reads one entry of a decision log.
func decodeDecision(e string) (flapjack.DecisionRecord, error) {
	var r flapjack.DecisionRecord
	parts := strings.SplitN(e, "\n", 4)
	if len(parts) != 4 {
		return r, fmt.Errorf("malformed decision entry")
	}
	count, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		return r, fmt.Errorf("malformed decision count %q", parts[1])
	}
	first, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return r, fmt.Errorf("malformed decision time %q", parts[2])
	}
	if r, err = decisionwire.Decode([]byte(parts[3])); err != nil {
		return r, err
	}
	r.Count, r.Time = count, decisionwire.DecodeTime(first)
	return r, nil
}
