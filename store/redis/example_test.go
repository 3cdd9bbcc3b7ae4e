package redisstore_test

import (
	"context"
	"log"

	redisstore "github.com/x/flapjack/store/redis"
)

// A processor process opens the store with a stable consumer id, so that events
// it reserved and did not finish are taken up again as soon as it restarts, and
// takes events off the queue Flapjack's producers push to. (Not run: it needs a
// Redis server.)
func ExampleNewFromURL() {
	ctx := context.Background()
	s, err := redisstore.NewFromURL(ctx, "redis://:secret@127.0.0.1:6379/0?consumer=processor@web-1")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	events := s.Queue("events")
	for {
		items, err := events.Reserve(ctx, 100, true)
		if redisstore.IsUnavailable(err) {
			continue // a real loop pauses here, with back-off
		}
		if err != nil {
			log.Fatal(err)
		}
		for _, it := range items {
			log.Printf("event: %s", it.Payload)
		}
		if err := events.Ack(ctx, items...); err != nil {
			log.Print(err)
		}
	}
}
