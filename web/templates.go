package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/x/flapjack"
)

// parseTemplates parses each page with the shared layout.
func parseTemplates(opts Options) map[string]*template.Template {
	funcs := template.FuncMap{
		// link builds a path below the prefix; its parts after the first are
		// escaped as path segments.
		"link": func(path string, parts ...string) string {
			for _, p := range parts {
				path += url.PathEscape(p)
			}
			return opts.Prefix + path
		},
		"time": func(t time.Time) string {
			if t.IsZero() {
				return "never"
			}
			return t.Format("2006-01-02 15:04:05 MST")
		},
		"ago": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return relative(opts.Clock.Now().Sub(t))
		},
		"dur":  func(d time.Duration) string { return relative(d) },
		"secs": func(n int64) string { return relative(time.Duration(n) * time.Second) },
		"cond": func(c flapjack.Condition) string {
			if c == "" {
				return "pending"
			}
			return string(c)
		},
		"join":  strings.Join,
		"upper": strings.ToUpper,
		"conds": func(cs []flapjack.Condition) string {
			if len(cs) == 0 {
				return "all"
			}
			s := make([]string, len(cs))
			for i, c := range cs {
				s[i] = string(c)
			}
			return strings.Join(s, ", ")
		},
	}
	layout := template.Must(template.New("layout").Funcs(funcs).ParseFS(assets, "assets/templates/layout.html"))
	pages, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(p[len("assets/templates/"):], ".html")
		if name == "layout" {
			continue
		}
		out[name] = template.Must(template.Must(layout.Clone()).ParseFS(assets, p))
	}
	return out
}

// relative writes a duration roughly: "3 minutes", "2 hours 5 minutes".
func relative(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return plural(int64(d/time.Second), "second")
	case d < time.Hour:
		return plural(int64(d/time.Minute), "minute")
	case d < 24*time.Hour:
		s := plural(int64(d/time.Hour), "hour")
		if m := int64(d % time.Hour / time.Minute); m > 0 {
			s += " " + plural(m, "minute")
		}
		return s
	}
	s := plural(int64(d/(24*time.Hour)), "day")
	if h := int64(d % (24 * time.Hour) / time.Hour); h > 0 {
		s += " " + plural(h, "hour")
	}
	return s
}

func plural(n int64, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
