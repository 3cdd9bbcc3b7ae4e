package redisstore

import (
	"testing"

	"github.com/x/flapjack/internal/redistest"
)

// TestKeyCountPrefix: without a prefix KeyCount is DBSIZE; with one it counts
// only the keys under it, whatever else the database holds, even keys whose
// names the prefix would match as a glob pattern.
func TestKeyCountPrefix(t *testing.T) {
	srv := redistest.Start(t, redistest.Config{})
	raw := rawClient(t, srv)
	for _, k := range []string{"other:1", "other:2", "other:3", "fj*x:1"} {
		if err := raw.Set(t.Context(), k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		prefix string
		own    []string // keys the test adds under the prefix
	}{
		{"", nil},
		{"fj:", []string{"fj:a", "fj:b"}},
		{"fj*", []string{"fj*a"}},     // a glob character in the prefix
		{"{fj}:", []string{"{fj}:a"}}, // a hash tag, as a cluster needs
		{"[fj]", []string{"[fj]a", "[fj]b"}},
	}
	for _, tc := range cases {
		t.Run("prefix "+tc.prefix, func(t *testing.T) {
			opts := testOptions(srv)
			opts.Prefix = tc.prefix
			s := newStore(t, opts)
			for _, k := range tc.own {
				if err := raw.Set(t.Context(), k, "v", 0).Err(); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { raw.Del(t.Context(), k) })
			}
			got, err := s.KeyCount(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			if tc.prefix == "" {
				want = raw.DBSize(t.Context()).Val()
			} else {
				keys, err := raw.Keys(t.Context(), "*").Result()
				if err != nil {
					t.Fatal(err)
				}
				for _, k := range keys {
					if len(k) >= len(tc.prefix) && k[:len(tc.prefix)] == tc.prefix {
						want++
					}
				}
				if want < int64(len(tc.own)) {
					t.Fatalf("only %d keys under %q", want, tc.prefix)
				}
			}
			if got != want {
				t.Errorf("KeyCount = %d, want %d", got, want)
			}
		})
	}
}
