package flapper_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/x/flapjack/flapper"
)

// A flapper that goes up and down once, quickly, then is stopped.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := flapper.Run(ctx, flapper.Options{
		Addr:      "127.0.0.1:0", // a free port, chosen anew each cycle
		Frequency: 100 * time.Millisecond,
		OnChange: func(up net.Addr) {
			if up != nil {
				fmt.Println("up: accepting clients")
				return
			}
			fmt.Println("down: refusing them")
			cancel()
		},
	})
	fmt.Println("stopped:", err)
	// Output:
	// up: accepting clients
	// down: refusing them
	// stopped: <nil>
}
