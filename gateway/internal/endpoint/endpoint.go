// Package endpoint reads the settings every vendor gateway shares: where the
// vendor's service is (endpoint_host and endpoint_path, as Flapjack v2 named
// them) and how long one request may take. Its errors never quote a value,
// since a misplaced credential may hide in one.
package endpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// DefaultTimeout bounds one request when the configuration gives no timeout.
const DefaultTimeout = 10 * time.Second

// URL is the service URL https://<host><path>. host is a host name with an
// optional ":port"; it may also be written "https://host[:port]", or
// "http://host[:port]" to send without TLS (to a test double or a local relay).
// Empty host or path take the defaults. The errors name the keys concerned.
func URL(host, path, defaultHost, defaultPath string) (*url.URL, []error) {
	if host == "" {
		host = defaultHost
	}
	if path == "" {
		path = defaultPath
	}
	var errs []error
	u := &url.URL{Scheme: "https", Host: host}
	if strings.Contains(host, "://") {
		p, err := url.Parse(host)
		switch {
		case err != nil:
			errs = append(errs, errors.New("endpoint_host: not a host name or an http(s)://host[:port] URL"))
		case p.Scheme != "https" && p.Scheme != "http":
			errs = append(errs, errors.New("endpoint_host: want an https or http scheme"))
		case p.User != nil || (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "":
			errs = append(errs, errors.New("endpoint_host: want only a scheme, a host and a port; put the path in endpoint_path"))
		case p.Host == "":
			errs = append(errs, errors.New("endpoint_host: URL has no host"))
		default:
			u.Scheme, u.Host = p.Scheme, p.Host
		}
	} else if p, err := url.Parse("https://" + host); err != nil || p.Host != host || p.Hostname() == "" {
		errs = append(errs, errors.New("endpoint_host: not a host name, optionally with :port"))
	}
	if p, err := url.Parse(path); err != nil || !strings.HasPrefix(path, "/") || p.RawQuery != "" || p.Fragment != "" || p.Host != "" {
		errs = append(errs, errors.New("endpoint_path: want an absolute path such as /send, without query"))
	} else {
		u.Path, u.RawPath = p.Path, p.RawPath
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return u, nil
}

// WarnPlain logs, once when a gateway is built, that u sends credentials
// without TLS.
func WarnPlain(log *slog.Logger, transport string, u *url.URL) {
	if u != nil && u.Scheme == "http" {
		log.Warn("gateway endpoint is plain HTTP: credentials and messages travel unencrypted",
			"transport", transport, "host", u.Host)
	}
}

// Timeout reads the timeout key: seconds, 0 for the default.
func Timeout(seconds float64) (time.Duration, error) {
	switch {
	case seconds < 0:
		return 0, fmt.Errorf("timeout: %g seconds is negative", seconds)
	case seconds > 0:
		return time.Duration(seconds * float64(time.Second)), nil
	}
	return DefaultTimeout, nil
}
