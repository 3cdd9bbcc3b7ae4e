package gateway_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/gateway"
)

func TestDeliveryConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		table gateway.MapConfig
		want  gateway.DeliveryOptions
		errs  []string
	}{{
		name:  "empty: every default",
		table: nil,
		want:  gateway.DeliveryOptions{},
	}, {
		name: "every key",
		table: gateway.MapConfig{"workers": 4, "max_attempts": 3, "backoff": 0.5, "max_backoff": 20,
			"rate": 2, "burst": 5, "rate_key": "address"},
		want: gateway.DeliveryOptions{Workers: 4, MaxAttempts: 3, Backoff: 500 * time.Millisecond, MaxBackoff: 20 * time.Second,
			Rate: 2, Burst: 5, RateKey: gateway.RatePerAddress},
	}, {
		name:  "every problem at once",
		table: gateway.MapConfig{"workers": -1, "max_attempts": -2, "backoff": -1, "rate": -3, "burst": -1, "rate_key": "contact"},
		errs: []string{"workers: -1 is negative", "max_attempts: -2 is negative", "backoff: -1 is negative",
			"rate: -3 is negative", "burst: -1 is negative", `rate_key: "contact" is neither "transport" nor "address"`},
	}, {
		name:  "max_backoff below backoff",
		table: gateway.MapConfig{"backoff": 10, "max_backoff": 5},
		errs:  []string{"max_backoff: 5 seconds is less than backoff, 10"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			var c gateway.DeliveryConfig
			if err := tc.table.Decode(&c); err != nil {
				t.Fatal(err)
			}
			got, err := c.Options()
			if len(tc.errs) == 0 {
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Errorf("Options() = %+v, %v; want %+v", got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Options() = %+v, want errors", got)
			}
			for _, want := range tc.errs {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not report %q", err, want)
				}
			}
		})
	}
	var c gateway.DeliveryConfig
	if err := (gateway.MapConfig{"retries": 3}).Decode(&c); err == nil || !strings.Contains(err.Error(), `unknown key "retries"`) {
		t.Errorf("an unknown key decodes: %v", err)
	}
}
