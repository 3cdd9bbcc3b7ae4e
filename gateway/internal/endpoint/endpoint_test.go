package endpoint

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack/gateway/gatewaytest"
)

func TestURL(t *testing.T) {
	const defHost, defPath = "api.example.com", "/v1/send"
	for _, tc := range []struct {
		host, path string
		want       string
		errs       []string
	}{
		{"", "", "https://api.example.com/v1/send", nil},
		{"sms.example.net", "", "https://sms.example.net/v1/send", nil},
		{"sms.example.net:8443", "/other/path", "https://sms.example.net:8443/other/path", nil},
		{"[::1]:8443", "", "https://[::1]:8443/v1/send", nil},
		{"https://sms.example.net", "", "https://sms.example.net/v1/send", nil},
		{"http://127.0.0.1:8080/", "/a%2Fb", "http://127.0.0.1:8080/a%2Fb", nil},
		{"sms.example.net/path", "", "", []string{"endpoint_host: not a host name"}},
		{"user:pw@sms.example.net", "", "", []string{"endpoint_host: not a host name"}},
		{":8443", "", "", []string{"endpoint_host: not a host name"}},
		{"ftp://sms.example.net", "", "", []string{"endpoint_host: want an https or http scheme"}},
		{"https://u:pw@sms.example.net", "", "", []string{"endpoint_host: want only a scheme, a host and a port"}},
		{"https://sms.example.net/v1", "", "", []string{"endpoint_host: want only a scheme, a host and a port"}},
		{"https://", "", "", []string{"endpoint_host: URL has no host"}},
		{"https://%zz", "", "", []string{"endpoint_host: not a host name or an http(s)://host[:port] URL"}},
		{"", "v1/send", "", []string{"endpoint_path: want an absolute path"}},
		{"", "/send?pw=x", "", []string{"endpoint_path: want an absolute path"}},
		{"", "//other.example.com/send", "", []string{"endpoint_path: want an absolute path"}},
		{"a b", "send", "", []string{"endpoint_host: not a host name", "endpoint_path: want an absolute path"}},
	} {
		t.Run(tc.host+" "+tc.path, func(t *testing.T) {
			u, errs := URL(tc.host, tc.path, defHost, defPath)
			if len(errs) != len(tc.errs) {
				t.Fatalf("errors %v, want %d naming %q", errs, len(tc.errs), tc.errs)
			}
			for i, w := range tc.errs {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error %q, want %q", errs[i], w)
				}
				gatewaytest.AssertNoSecrets(t, []string{"pw"}, errs[i].Error())
			}
			if tc.errs == nil && u.String() != tc.want {
				t.Errorf("URL %s, want %s", u, tc.want)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		seconds float64
		want    time.Duration
		err     error
	}{
		{0, DefaultTimeout, nil},
		{2.5, 2500 * time.Millisecond, nil},
		{-1, 0, errors.New("timeout: -1 seconds is negative")},
	} {
		got, err := Timeout(tc.seconds)
		if got != tc.want || (err == nil) != (tc.err == nil) || (err != nil && err.Error() != tc.err.Error()) {
			t.Errorf("Timeout(%g) = %s, %v; want %s, %v", tc.seconds, got, err, tc.want, tc.err)
		}
	}
}
