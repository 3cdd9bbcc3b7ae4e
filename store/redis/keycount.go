package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/x/flapjack/store"
)

var _ store.KeyCounter = (*Store)(nil)

// KeyCount implements store.KeyCounter. Without a Prefix it is DBSIZE, every
// key of the database, as Flapjack v2 reported it. With one it counts only the
// keys under the prefix, with SCAN: that walks the whole database (on the
// cluster node holding the prefix's slot), so it takes longer the more other
// keys share it.
func (s *Store) KeyCount(ctx context.Context) (int64, error) {
	if s.k.prefix == "" {
		n, err := s.rdb.DBSize(ctx).Result()
		if err != nil {
			return 0, fmt.Errorf("redis store: count keys: %w", err)
		}
		return n, nil
	}
	node, err := nodeFor(ctx, s.rdb, s.k.prefix)
	if err != nil {
		return 0, fmt.Errorf("redis store: count keys: %w", err)
	}
	// SCAN may return a key twice while the server resizes its table.
	seen := map[string]struct{}{}
	pattern := globEscaper.Replace(s.k.prefix) + "*"
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return 0, fmt.Errorf("redis store: count keys: %w", err)
		}
		for _, k := range keys {
			seen[k] = struct{}{}
		}
		if cursor = next; cursor == 0 {
			return int64(len(seen)), nil
		}
	}
}

// globEscaper quotes the characters special to Redis' glob-style patterns.
var globEscaper = strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
