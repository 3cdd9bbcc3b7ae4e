package pagerduty_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway/pagerduty"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// An ack poller finds that a failing check's incident was acknowledged on
// PagerDuty, and queues an acknowledgement event for the processor.
func ExampleAckPoller() {
	ctx := context.Background()
	// A stand-in for PagerDuty's REST API.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"incidents":[{"incident_key":"app-01:HTTP","status":"acknowledged",`+
			`"last_status_change_by":{"type":"user_reference","summary":"Ada Lovelace"}}],"limit":100,"offset":0,"more":false}`)
	}))
	defer api.Close()

	st := memory.New()
	defer st.Close()
	_ = st.PutContact(ctx, flapjack.Contact{ID: "ops", Name: "Ops"})
	_ = st.PutMedium(ctx, flapjack.Medium{ID: "pd", ContactID: "ops", Transport: "pagerduty",
		Address: "routing-key", PagerdutyToken: "rest-api-token", PagerdutyAckDuration: 3600})
	_ = st.PutRule(ctx, flapjack.Rule{ID: "all", ContactID: "ops", Enabled: true, Strategy: flapjack.Global, MediaIDs: []string{"pd"}})
	_, _ = st.UpdateCheck(ctx, "app-01:HTTP", true, func(u *store.CheckUpdate) error {
		u.Check.Condition, u.Check.Failing = flapjack.Critical, true
		return nil
	})

	p, err := pagerduty.NewAckPoller(st, pagerduty.AckPollerOptions{
		APIURL: api.URL,
		Clock:  flapjack.ClockFunc(func() time.Time { return time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC) }),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := p.Poll(ctx) // Run(ctx) polls every Interval
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("acknowledged:", res.Acknowledged)
	items, _ := st.Queue("events").Reserve(ctx, 10, false)
	for _, it := range items {
		fmt.Println(string(it.Payload))
	}
	// Output:
	// acknowledged: [app-01:HTTP]
	// {"state":"acknowledgement","check":"app-01:HTTP","summary":"Acknowledged on PagerDuty by Ada Lovelace","duration":3600}
}
