package retry

import (
	"context"
	"testing"
	"time"
)

func TestBackoffGrowsToMax(t *testing.T) {
	b := Backoff{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond}
	steps := []time.Duration{10, 20, 40, 80, 80, 80}
	for i, step := range steps {
		step *= time.Millisecond
		d := b.Next()
		if d < step/2 || d > step {
			t.Errorf("wait %d = %s, want within [%s, %s]", i, d, step/2, step)
		}
	}
	b.Reset()
	if d := b.Next(); d > 10*time.Millisecond {
		t.Errorf("after Reset the wait is %s, want at most the minimum", d)
	}
}

func TestSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep reported a full wait on a cancelled context")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep did not report a full wait")
	}
}
