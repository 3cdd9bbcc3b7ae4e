package receiver_test

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/receiver"
)

func ExampleParseNagiosLine() {
	line := "[SERVICEPERFDATA]\t1454900000\tweb-01\tHTTP\tCRITICAL\t0.101\t0.012\tHTTP CRITICAL - 502\ttime=0.2s;;;0"
	ev, err := receiver.ParseNagiosLine(line)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := ev.MarshalJSON()
	fmt.Println(string(b))

	_, err = receiver.ParseNagiosLine("[SERVICEPERFDATA]\tnow\tweb-01\tHTTP\tCRITICAL\t0\t0\t502\t")
	fmt.Println(err)
	// Output:
	// {"state":"critical","check":"HTTP","entity":"web-01","time":1454900000,"summary":"HTTP CRITICAL - 502","perfdata":"time=0.2s;;;0"}
	// rejected line: field 2 (time) "now" is not a Unix time in digits
}

func ExampleJSONStream() {
	s := receiver.NewJSONStream(strings.NewReader(`{"check":"a","state":"ok"}
{"check":"b",
 "state":"critical"}{"check":`))
	for {
		raw, err := s.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			break
		}
		ev, err := flapjack.ParseEvent(raw)
		fmt.Println(ev.Check, ev.State, err)
	}
	// Output:
	// a ok <nil>
	// b critical <nil>
	// invalid JSON after 70 bytes: unexpected end of input inside a value
}

// A broker turns one submission into an event at every interval, until the
// state is older than its ttl.
func ExampleBroker() {
	now := time.Unix(1454900000, 0)
	b := receiver.NewBroker(receiver.BrokerOptions{
		Sender: receiver.SenderFunc(func(_ context.Context, ev flapjack.Event) error {
			fmt.Println(ev.CheckName(), ev.State, ev.Summary)
			return nil
		}),
		Clock: flapjack.ClockFunc(func() time.Time { return now }),
	})
	w := httptest.NewRecorder()
	b.ServeHTTP(w, httptest.NewRequest("POST", "/state",
		strings.NewReader(`{"entity":"foo-app-01","check":"PING","state":"OK","summary":"3 ms","ttl":30}`)))
	fmt.Print(w.Body.String())

	for _, after := range []time.Duration{10 * time.Second, 40 * time.Second} {
		now = time.Unix(1454900000, 0).Add(after)
		_ = b.SendAll(context.Background()) // what Run does every Interval
	}
	// Output:
	// Caching state: {"entity":"foo-app-01","check":"PING","type":"service","state":"OK","summary":"3 ms","details":"","tags":null,"time":1454900000,"ttl":30}
	// foo-app-01:PING OK 3 ms
	// foo-app-01:PING UNKNOWN httpbroker: Cached state is stale (40s old, should be < 30s)
}
