package gateway

import (
	"errors"
	"fmt"
	"time"
)

// DeliveryConfig is the optional delivery table of a gateway's configuration
// section, [gateways.<name>.delivery]: the [DeliveryOptions] a person sets, with
// times in seconds. Absent keys take the defaults of DeliveryOptions.
//
//	[gateways.pagerduty.delivery]
//	workers = 4
//	max_attempts = 8
//	backoff = 1        # seconds
//	max_backoff = 30   # seconds
//	rate = 2           # attempts per second; 0: no limit
//	burst = 1
//	rate_key = "address"
type DeliveryConfig struct {
	Workers     int     `json:"workers"`
	MaxAttempts int     `json:"max_attempts"`
	Backoff     float64 `json:"backoff"`
	MaxBackoff  float64 `json:"max_backoff"`
	Rate        float64 `json:"rate"`
	Burst       int     `json:"burst"`
	RateKey     string  `json:"rate_key"`
}

// Options returns the options c sets, or an error listing every problem of c.
// Logger, Clock and Sleep are left for the host to set.
func (c DeliveryConfig) Options() (DeliveryOptions, error) {
	var errs []error
	positive := func(key string, v float64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s: %g is negative", key, v))
		}
	}
	positive("workers", float64(c.Workers))
	positive("max_attempts", float64(c.MaxAttempts))
	positive("backoff", c.Backoff)
	positive("max_backoff", c.MaxBackoff)
	positive("rate", c.Rate)
	positive("burst", float64(c.Burst))
	if c.Backoff > 0 && c.MaxBackoff > 0 && c.MaxBackoff < c.Backoff {
		errs = append(errs, fmt.Errorf("max_backoff: %g seconds is less than backoff, %g", c.MaxBackoff, c.Backoff))
	}
	key := RateKey(c.RateKey)
	switch key {
	case "", RatePerTransport, RatePerAddress:
	default:
		errs = append(errs, fmt.Errorf("rate_key: %q is neither %q nor %q", c.RateKey, RatePerTransport, RatePerAddress))
	}
	if err := errors.Join(errs...); err != nil {
		return DeliveryOptions{}, err
	}
	return DeliveryOptions{
		Workers:     c.Workers,
		MaxAttempts: c.MaxAttempts,
		Backoff:     seconds(c.Backoff),
		MaxBackoff:  seconds(c.MaxBackoff),
		Rate:        c.Rate,
		Burst:       c.Burst,
		RateKey:     key,
	}, nil
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// DeliveryDefaulter is implemented by gateways whose endpoint needs other
// delivery defaults than the package's, such as a vendor's rate limit. The
// host starts from these and applies the user's [gateways.<name>.delivery]
// table over them.
type DeliveryDefaulter interface {
	DeliveryDefaults() DeliveryConfig
}
