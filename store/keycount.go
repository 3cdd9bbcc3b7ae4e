package store

import "context"

// KeyCounter is implemented by stores that can tell how much they hold, for the
// total_keys of the API's metrics and the web interface's statistics page.
// store/redis counts its keys (DBSIZE, or the keys under its prefix); store/memory
// counts its records. The number is for watching growth, not for comparing one
// kind of store with another.
type KeyCounter interface {
	KeyCount(ctx context.Context) (int64, error)
}
