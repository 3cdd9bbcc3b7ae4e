package restriction

import "sync"

// DefaultCacheSize is the number of entries a zero Cache keeps.
const DefaultCacheSize = 4096

// Cache memoises Parse by restriction text, so that the notifier parses each
// distinct string once. It remembers failures too. It is safe for concurrent
// use; the zero value is ready and keeps up to DefaultCacheSize entries. When
// full, an arbitrary entry is evicted.
type Cache struct {
	mu      sync.Mutex
	max     int
	entries map[string]cacheEntry
}

type cacheEntry struct {
	r   *Restriction
	err error
}

// NewCache returns a cache that keeps at most size entries (DefaultCacheSize if
// size <= 0).
func NewCache(size int) *Cache {
	return &Cache{max: size}
}

// Get returns Parse(text), parsing text only if it is not cached. Every call
// with the same text returns the same *Restriction while it stays cached.
func (c *Cache) Get(text string) (*Restriction, error) {
	c.mu.Lock()
	e, ok := c.entries[text]
	c.mu.Unlock()
	if ok {
		return e.r, e.err
	}

	r, err := Parse(text) // outside the lock: parsing may take a while

	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[text]; ok { // another goroutine won the race
		return e.r, e.err
	}
	if c.entries == nil {
		c.entries = make(map[string]cacheEntry)
	}
	limit := c.max
	if limit <= 0 {
		limit = DefaultCacheSize
	}
	for k := range c.entries {
		if len(c.entries) < limit {
			break
		}
		delete(c.entries, k)
	}
	c.entries[text] = cacheEntry{r, err}
	return r, err
}

// Len returns the number of cached entries.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
