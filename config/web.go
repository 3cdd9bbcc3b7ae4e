package config

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// Web configures the web interface ([gateways.web]). It is served by the
// [gateways.jsonapi] server below /web/, with that server's address, tokens
// and TLS.
type Web struct {
	// Enabled serves the web interface. Default true.
	Enabled *bool `json:"enabled"`
	// AutoRefresh is how often, in seconds, the checks list reloads itself.
	// Default 0: never.
	AutoRefresh int `json:"auto_refresh"`
	// AccessLog, when set, is a file each request to the web interface is
	// appended to, in the Combined Log Format. A relative path is resolved
	// against the configuration file's folder; the file is opened again at
	// every reload (SIGHUP), for log rotation. Default: none.
	AccessLog string `json:"access_log"`
	// LogoImagePath is an image (png, jpg, jpeg, gif, svg or webp) shown in
	// the navigation bar instead of the name Flapjack, served at
	// /web/img/branding.<ext>. A relative path is resolved against the
	// configuration file's folder; the file is read at start and at every
	// reload. Default: none.
	LogoImagePath string `json:"logo_image_path"`
	// SessionSecret signs the session cookie, which carries the message of a
	// form to the page it leads to; at least 16 characters. Default: a random
	// secret per start.
	SessionSecret string `json:"session_secret"`
	// ShowExceptions shows the details of an unexpected failure on the error
	// page; they are always logged. Default false.
	ShowExceptions bool `json:"show_exceptions"`

	// BindAddress, Port, Timeout and APIURL are Flapjack v2's settings of its
	// separate web server. They have no effect here: the interface is served
	// by [gateways.jsonapi] and reads the store itself.
	BindAddress any `json:"bind_address"`
	Port        any `json:"port"`
	Timeout     any `json:"timeout"`
	APIURL      any `json:"api_url"`
}

// minSessionSecret is the shortest session_secret accepted.
const minSessionSecret = 16

// On reports whether the web interface is served.
func (w Web) On() bool { return w.Enabled == nil || *w.Enabled }

// Refresh is AutoRefresh as a duration.
func (w Web) Refresh() time.Duration { return time.Duration(w.AutoRefresh) * time.Second }

// Web returns the [gateways.web] table with its defaults, its paths resolved.
func (c *Config) Web() (Web, error) {
	w, problems := c.web()
	return w, joinProblems(problems)
}

func (c *Config) web() (Web, []keyProblem) {
	var w Web
	if t, ok := c.Gateways["web"]; ok {
		if problems := decodeTable(t, &w, true); len(problems) > 0 {
			return w, problems
		}
	}
	w.AccessLog, w.LogoImagePath = c.resolve(w.AccessLog), c.resolve(w.LogoImagePath)
	var problems []keyProblem
	if w.AutoRefresh < 0 {
		problems = append(problems, keyProblem{"auto_refresh", fmt.Sprintf("auto_refresh must be 0 (off) or more seconds, not %d", w.AutoRefresh)})
	}
	if n := len(w.SessionSecret); n > 0 && n < minSessionSecret {
		// The secret itself is never part of a message.
		problems = append(problems, keyProblem{"session_secret", fmt.Sprintf("session_secret must be at least %d characters, not %d", minSessionSecret, n)})
	}
	if p := accessLogProblem(w.AccessLog); p != nil {
		problems = append(problems, *p)
	}
	return w, problems
}

// accessLogProblem checks that an access log can be created where path says.
func accessLogProblem(path string) *keyProblem {
	if path == "" {
		return nil
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return &keyProblem{"access_log", fmt.Sprintf("access_log %s: the folder %s does not exist", path, dir)}
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return &keyProblem{"access_log", fmt.Sprintf("access_log %s is a folder", path)}
	}
	return nil
}

// webWarnings lists the [gateways.web] keys of Flapjack v2 that have no effect.
func (c *Config) webWarnings() []string {
	t := c.Gateways["web"]
	var w []string
	for _, key := range []string{"api_url", "bind_address", "port", "timeout"} {
		if _, ok := t[key]; ok {
			w = append(w, fmt.Sprintf("%s: [gateways.web] %s is a Flapjack v2 setting with no effect: the web interface is served by [gateways.jsonapi] at /web/; ignored",
				c.Where("gateways.web."+key), key))
		}
	}
	return w
}
