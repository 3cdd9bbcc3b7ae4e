package oobetet_test

import (
	"context"
	"fmt"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/oobetet"
)

// chatRoom is a stand-in for a chat transport: it prints what the oobetet
// says, and delivers the messages sent on its channel.
type chatRoom chan oobetet.Message

func (c chatRoom) Messages() <-chan oobetet.Message { return c }

func (c chatRoom) Say(_ context.Context, text string) error {
	fmt.Println("oobetet:", text)
	return nil
}

// An oobetet watching the flapper's check, driven by hand: a recovery is
// more than five minutes late, then arrives.
func Example() {
	now := time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC)
	room := make(chatRoom)
	ticks := make(chan time.Time)
	o, err := oobetet.New(oobetet.Options{
		WatchedCheck: "flapper.example.org:Flapper",
		Hostname:     "mon-01",
		Clock:        flapjack.ClockFunc(func() time.Time { return now }),
		Room:         room,
		Ticks:        ticks, // a real host leaves this out: Run ticks every 10 s
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- o.Run(ctx) }()

	// Run handles one message or tick at a time, so a send waits for the
	// one before it to be handled; an empty message is a no-op to wait on.
	say := func(body string) {
		room <- oobetet.Message{From: "flapjack", Body: body}
		room <- oobetet.Message{}
	}
	tick := func(d time.Duration) {
		now = now.Add(d)
		ticks <- now
		room <- oobetet.Message{}
	}

	room <- oobetet.Message{} // Run has started
	tick(200 * time.Second)
	say(`Problem: "flapper.example.org:Flapper" is Critical`)
	tick(101 * time.Second) // no recovery for 301 s
	tick(10 * time.Second)  // still none: throttled
	say(`Recovery: "flapper.example.org:Flapper" is OK`)
	tick(10 * time.Second)

	cancel()
	fmt.Println("stopped:", <-done)
	// Output:
	// oobetet: flapjack oobetet gateway started at 2016-02-01 12:00:00 +0000, hello!
	// oobetet: Flapjack Self Monitoring is Critical: haven't seen a test recovery notification in the last 300 seconds for "flapper.example.org:Flapper", from mon-01 at 2016-02-01 12:05:01 +0000
	// oobetet: Flapjack Self Monitoring is OK
	// stopped: <nil>
}
