package receiver_test

import (
	"bytes"
	"log/slog"
	"sync"
	"time"
)

// wait bounds every wait of these tests for something that should happen soon.
const wait = 10 * time.Second

// syncBuffer collects log output written by several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func slogText(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
