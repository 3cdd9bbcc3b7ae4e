// Package web is Flapjack's web interface: server-rendered HTML pages about
// checks, contacts, tags and the processor's statistics, with forms to
// acknowledge problems, manage maintenance and decommission checks.
//
// Unlike Flapjack v2's web UI, which was a client of the JSON API, the pages
// read the store directly through the same interfaces the API uses: there is
// no second HTTP hop to configure or to fail, and a page shows one consistent
// read. Writes go where the API sends them: an acknowledgement is an event
// pushed onto the events queue (the processor turns it into unscheduled
// maintenance), while maintenance windows and disabling a check are atomic
// updates of the check's record.
//
// Everything the pages need, templates and style sheet, is embedded in the
// binary; the pages use no JavaScript and work offline.
//
// The JSON:API owns the root of its server, so the interface is mounted below a
// prefix beside it:
//
//	mux.Handle("/web/", web.Handler(st, web.Options{Prefix: "/web"}))
//
// HTML forms can only GET and POST, so a POST carrying a _method field of PATCH
// or DELETE is handled as that method. Requests that change anything must be
// POSTs (after the override) from the same origin: the handler rejects
// cross-site requests by their Sec-Fetch-Site or Origin header
// (http.CrossOriginProtection), so no CSRF token is needed. An action
// redirects back to its page, which shows its message (the error, or a notice
// of success) once: the message travels in a signed cookie (SessionCookie).
package web

import (
	"cmp"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/config"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

//go:embed assets
var assets embed.FS

// Store is what the web interface needs from storage.
type Store interface {
	store.Checks
	Routing(ctx context.Context) (*store.Routing, error)
	MediumState(ctx context.Context, id string) (flapjack.MediumState, error)
	Statistics(ctx context.Context) ([]store.Statistic, error)
	store.Queues
}

// Options configure the web interface. The zero value is usable.
type Options struct {
	// EventsQueue is where acknowledgements are pushed. Default "events".
	EventsQueue string
	// Clock gives the time. Default: the system clock.
	Clock flapjack.Clock
	// Logger receives failures. Default: discard.
	Logger *slog.Logger
	// AutoRefresh, when positive, makes the checks list reload itself this often.
	AutoRefresh time.Duration
	// Prefix is the path the interface is mounted at, such as "/web"; empty
	// means the root. Handler strips it from requests and adds it to links.
	Prefix string
	// PageSize is the number of rows per page of a list. Default 50.
	PageSize int
	// SessionSecret is the key that signs the session cookie, which carries
	// an action's message to the page it leads to. Default: a random key,
	// so that messages of actions sent before a restart are lost.
	SessionSecret []byte
	// ShowExceptions shows the details of an unexpected failure (its error,
	// the stack of a panic) on the error page; they are always logged.
	// Default false: the page only says something went wrong.
	ShowExceptions bool
	// Logo, when set, replaces the name in the navigation bar.
	Logo *Logo
	// SignOutPath, when set, is where the navigation bar's "Sign out" button
	// posts for a browser signed in with a token: one whose request carries
	// the cookie of api.RequireTokens. Default: no button.
	SignOutPath string
}

// DefaultAckDuration is the length of an acknowledgement whose duration cannot
// be read or is not positive.
const DefaultAckDuration = 4 * time.Hour

type handler struct {
	st   Store
	opts Options
	tmpl map[string]*template.Template
}

// Handler returns the web interface over st.
func Handler(st Store, opts Options) http.Handler {
	opts.EventsQueue = cmp.Or(opts.EventsQueue, "events")
	if opts.Clock == nil {
		opts.Clock = flapjack.SystemClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 50
	}
	opts.Prefix = strings.TrimSuffix(opts.Prefix, "/")
	if len(opts.SessionSecret) == 0 {
		opts.SessionSecret = newSessionSecret()
	}
	h := &handler{st: st, opts: opts, tmpl: parseTemplates(opts)}

	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets/static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	if opts.Logo != nil {
		mux.Handle("GET "+opts.Logo.path(), opts.Logo)
	}
	mux.HandleFunc("GET /{$}", h.page(h.summary))
	mux.HandleFunc("GET /checks", h.page(h.checks))
	mux.HandleFunc("GET /checks/{id}", h.page(h.check))
	mux.HandleFunc("GET /contacts", h.page(h.contacts))
	mux.HandleFunc("GET /contacts/{id}", h.page(h.contact))
	mux.HandleFunc("GET /tags", h.page(h.tags))
	mux.HandleFunc("GET /tags/{name}", h.page(h.tag))
	mux.HandleFunc("GET /self_stats", h.page(h.selfStats))
	mux.HandleFunc("POST /acknowledgements", h.action(h.acknowledge))
	mux.HandleFunc("PATCH /unscheduled_maintenances/{id}", h.action(h.endUnscheduled))
	mux.HandleFunc("POST /scheduled_maintenances", h.action(h.addScheduled))
	mux.HandleFunc("PATCH /scheduled_maintenances/{id}", h.action(h.endScheduled))
	mux.HandleFunc("DELETE /scheduled_maintenances/{id}", h.action(h.deleteScheduled))
	mux.HandleFunc("PATCH /checks/{id}", h.action(h.disable))

	var out http.Handler = http.NewCrossOriginProtection().Handler(methodOverride(mux))
	if opts.Prefix != "" {
		out = http.StripPrefix(opts.Prefix, out)
	}
	return out
}

// methodOverride turns a form POST with _method=PATCH or DELETE into that method.
func methodOverride(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			switch m := strings.ToUpper(r.PostForm.Get("_method")); m {
			case http.MethodPatch, http.MethodDelete:
				r.Method = m
			}
		}
		next.ServeHTTP(w, r)
	})
}

// httpError is a failure with a status for the visitor.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func notFound(format string, args ...any) error {
	return &httpError{http.StatusNotFound, fmt.Sprintf(format, args...)}
}

// view is what a page handler returns: the template to render and its data.
type view struct {
	name string
	data map[string]any
}

func (h *handler) page(fn func(r *http.Request) (view, error)) http.HandlerFunc {
	return h.recovering(func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(r)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if v.data == nil {
			v.data = map[string]any{}
		}
		f := h.takeFlash(w, r)
		v.data["Error"], v.data["Notice"] = f.Error, f.Notice
		h.render(w, r, http.StatusOK, v)
	})
}

// recovering answers a panic of fn as fail answers an unexpected error.
func (h *handler) recovering(fn http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				h.fail(w, r, &panicError{v, debug.Stack()})
			}
		}()
		fn(w, r)
	}
}

// panicError is a panic of a page or an action.
type panicError struct {
	value any
	stack []byte
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v\n\n%s", e.value, e.stack) }

// render writes the page v, with what the layout needs besides v's data.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, v view) {
	v.data["Now"] = h.opts.Clock.Now()
	v.data["Prefix"] = h.opts.Prefix
	if h.opts.Logo != nil {
		v.data["Logo"] = h.opts.Logo.path()
	}
	if _, err := r.Cookie(api.TokenCookie); err == nil && h.opts.SignOutPath != "" {
		v.data["SignOut"] = h.opts.SignOutPath
	}
	var buf strings.Builder
	if err := h.tmpl[v.name].ExecuteTemplate(&buf, "layout", v.data); err != nil {
		h.opts.Logger.Error("rendering page failed", "page", v.name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// fail answers err with the error page. The details of an unexpected error
// are logged, and shown only with ShowExceptions.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, detail := http.StatusInternalServerError, "Something went wrong; the error was logged.", ""
	var he *httpError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, "Not found."
	default:
		h.opts.Logger.Error("web request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		if h.opts.ShowExceptions {
			detail = err.Error()
		}
	}
	h.render(w, r, status, view{"error", map[string]any{"Title": http.StatusText(status), "Message": msg, "Detail": detail}})
}

// action wraps a form handler. fn returns the path to go back to (below the
// prefix), a notice for success, or an error; a failure with a path goes back
// there with the error as a flash message.
func (h *handler) action(fn func(r *http.Request) (back, notice string, err error)) http.HandlerFunc {
	return h.recovering(func(w http.ResponseWriter, r *http.Request) {
		back, notice, err := fn(r)
		if back == "" {
			if err == nil {
				err = errors.New("no page to go back to")
			}
			h.fail(w, r, err)
			return
		}
		f := flash{Notice: notice}
		if err != nil {
			f = flash{Error: err.Error()}
			var he *httpError
			if !errors.As(err, &he) && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, flapjack.ErrMaintenanceOver) {
				h.opts.Logger.Error("web action failed", "method", r.Method, "path", r.URL.Path, "error", err)
			}
		}
		if f != (flash{}) {
			h.setFlash(w, r, f)
		}
		http.Redirect(w, r, h.opts.Prefix+back, http.StatusSeeOther)
	})
}

// ---- pages ----

func (h *handler) summary(r *http.Request) (view, error) {
	checks, err := h.st.QueryChecks(r.Context(), store.CheckQuery{})
	if err != nil {
		return view{}, err
	}
	enabled, failing := 0, 0
	for _, c := range checks {
		if c.Enabled {
			enabled++
			if c.Failing {
				failing++
			}
		}
	}
	return view{"summary", map[string]any{"Title": "Summary", "Enabled": enabled, "Failing": failing}}, nil
}

// pager cuts a list into pages.
type pager struct {
	Page, Pages, Total int
	Prev, Next         string // query strings, empty at the ends
}

func paginate[T any](r *http.Request, items []T, size int) ([]T, pager) {
	p := pager{Total: len(items), Pages: max(1, (len(items)+size-1)/size)}
	p.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	p.Page = min(max(p.Page, 1), p.Pages)
	link := func(page int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page))
		q.Del("error")
		q.Del("notice")
		return "?" + q.Encode()
	}
	if p.Page > 1 {
		p.Prev = link(p.Page - 1)
	}
	if p.Page < p.Pages {
		p.Next = link(p.Page + 1)
	}
	lo := (p.Page - 1) * size
	return items[lo:min(lo+size, len(items))], p
}

// nameMatcher reads a name filter: an exact name, or a regular expression
// between slashes.
func nameMatcher(s string) (func(string) bool, error) {
	if s == "" {
		return func(string) bool { return true }, nil
	}
	if len(s) >= 2 && strings.HasPrefix(s, "/") && strings.HasSuffix(s, "/") {
		re, err := regexp.Compile(s[1 : len(s)-1])
		if err != nil {
			return nil, &httpError{http.StatusBadRequest, "invalid name pattern: " + err.Error()}
		}
		return re.MatchString, nil
	}
	return func(n string) bool { return n == s }, nil
}

// boolFilter reads "true"/"false"; anything else means no filter.
func boolFilter(s string) *bool {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		t := true
		return &t
	case "false", "0", "no", "off":
		f := false
		return &f
	}
	return nil
}

// checkRow is a check as a list shows it.
type checkRow struct {
	flapjack.Check
	State            string
	Summary          string
	LastChange       time.Time
	LastUpdate       time.Time
	LastNotification time.Time
}

func newCheckRow(c flapjack.Check) checkRow {
	row := checkRow{Check: c, State: strings.ToUpper(string(c.Condition))}
	if row.State == "" {
		row.State = "PENDING"
	}
	if s := c.CurrentState; s != nil {
		row.Summary, row.LastChange, row.LastUpdate = s.Summary, s.CreatedAt, s.UpdatedAt
	}
	for _, n := range c.LatestNotifications {
		if n.CreatedAt.After(row.LastNotification) {
			row.LastNotification = n.CreatedAt
		}
	}
	return row
}

func (h *handler) checks(r *http.Request) (view, error) {
	q := r.URL.Query()
	match, err := nameMatcher(q.Get("name"))
	if err != nil {
		return view{}, err
	}
	enabled, failing := boolFilter(q.Get("enabled")), boolFilter(q.Get("failing"))
	all, err := h.st.QueryChecks(r.Context(), store.CheckQuery{})
	if err != nil {
		return view{}, err
	}
	var rows []checkRow
	for _, c := range all {
		if !match(c.Name) || (enabled != nil && c.Enabled != *enabled) || (failing != nil && c.Failing != *failing) {
			continue
		}
		rows = append(rows, newCheckRow(c))
	}
	rows, p := paginate(r, rows, h.opts.PageSize)
	d := map[string]any{"Title": "Checks", "Rows": rows, "Pager": p,
		"Name": q.Get("name"), "EnabledFilter": q.Get("enabled"), "FailingFilter": q.Get("failing")}
	if h.opts.AutoRefresh > 0 {
		d["Refresh"] = int(h.opts.AutoRefresh.Seconds())
	}
	return view{"checks", d}, nil
}

// segment is one stretch of a check's recent history on the timeline.
type segment struct {
	flapjack.State
	Until  time.Time
	X, W   float64 // position and width on a 0–1000 scale
	Active bool
}

// timeline lays the newest states out over the time they cover, up to now.
func timeline(hist []flapjack.State, now time.Time) []segment {
	if len(hist) == 0 {
		return nil
	}
	start := hist[0].CreatedAt
	span := now.Sub(start)
	if span <= 0 {
		span = time.Second
	}
	out := make([]segment, len(hist))
	for i, s := range hist {
		until := now
		if i+1 < len(hist) {
			until = hist[i+1].CreatedAt
		}
		out[i] = segment{State: s, Until: until, Active: i+1 == len(hist),
			X: 1000 * float64(s.CreatedAt.Sub(start)) / float64(span),
			W: max(1000*float64(until.Sub(s.CreatedAt))/float64(span), 2)}
	}
	return out
}

// routedContact is a contact whose enabled, non-blackhole rules select a
// check, with the media those rules name.
type routedContact struct {
	*flapjack.Contact
	Media []*flapjack.Medium
}

func routedContacts(rt *store.Routing, c *flapjack.Check) []routedContact {
	byContact := map[string]map[string]bool{}
	for _, rule := range rt.Rules {
		if !rule.Enabled || rule.Blackhole || !rule.Strategy.MatchesTags(rule.Tags, c.Tags) {
			continue
		}
		if byContact[rule.ContactID] == nil {
			byContact[rule.ContactID] = map[string]bool{}
		}
		for _, id := range rule.MediaIDs {
			byContact[rule.ContactID][id] = true
		}
	}
	var out []routedContact
	for id, media := range byContact {
		ct := rt.Contacts[id]
		if ct == nil {
			continue
		}
		rc := routedContact{Contact: ct}
		for mid := range media {
			if m := rt.Media[mid]; m != nil {
				rc.Media = append(rc.Media, m)
			}
		}
		slices.SortFunc(rc.Media, func(a, b *flapjack.Medium) int { return cmp.Compare(a.Transport+a.Address, b.Transport+b.Address) })
		out = append(out, rc)
	}
	slices.SortFunc(out, func(a, b routedContact) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

const recentStates = 20

// isRunning reports whether m has started and not yet ended at now. Unlike
// Maintenance.Covers it excludes the end, so that a window just ended "now"
// shows as over.
func isRunning(m flapjack.Maintenance, now time.Time) bool {
	return !now.Before(m.Start) && now.Before(m.End)
}

// running returns the first window of ms running at now.
func running(ms []flapjack.Maintenance, now time.Time) (flapjack.Maintenance, bool) {
	for _, m := range ms {
		if isRunning(m, now) {
			return m, true
		}
	}
	return flapjack.Maintenance{}, false
}

func (h *handler) check(r *http.Request) (view, error) {
	ctx := r.Context()
	c, err := h.st.CheckByID(ctx, r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return view{}, notFound("No check with id %q.", r.PathValue("id"))
	}
	if err != nil {
		return view{}, err
	}
	now := h.opts.Clock.Now()
	hist, err := h.st.History(ctx, c.ID)
	if err != nil {
		return view{}, err
	}
	if n := len(hist); n > 0 && c.CurrentState != nil && hist[n-1].CreatedAt.Equal(c.CurrentState.CreatedAt) {
		hist[n-1] = *c.CurrentState
	}
	hist = hist[max(0, len(hist)-recentStates):]
	rt, err := h.st.Routing(ctx)
	if err != nil {
		return view{}, err
	}
	sched, inSched := running(c.ScheduledMaintenances, now)
	unsched, inUnsched := running(c.UnscheduledMaintenances, now)
	scheduled := slices.Clone(c.ScheduledMaintenances)
	slices.SortFunc(scheduled, func(a, b flapjack.Maintenance) int { return a.Start.Compare(b.Start) })
	type maint struct {
		flapjack.Maintenance
		Current, Future, Past bool
	}
	var sm []maint
	for _, m := range scheduled {
		sm = append(sm, maint{m, isRunning(m, now), m.Start.After(now), !m.End.After(now)})
	}
	newest := slices.Clone(hist)
	slices.Reverse(newest)
	latest := map[string]time.Time{}
	for _, n := range c.LatestNotifications {
		key := string(n.Action)
		if key == "" {
			key = string(n.Condition)
		}
		if n.CreatedAt.After(latest[key]) {
			latest[key] = n.CreatedAt
		}
	}
	var lastNotes []struct {
		Kind string
		At   time.Time
	}
	for _, k := range []string{"critical", "warning", "unknown", "ok", "acknowledgement"} {
		lastNotes = append(lastNotes, struct {
			Kind string
			At   time.Time
		}{k, latest[k]})
	}
	decisions, kept, err := h.decisions(ctx, c.ID)
	if err != nil {
		return view{}, err
	}
	return view{"check", map[string]any{
		"Title": c.Name, "Check": newCheckRow(c),
		"InScheduled": inSched, "Scheduled": sched, "InUnscheduled": inUnsched, "Unscheduled": unsched,
		"CanAck":       c.Failing && c.Enabled && !inSched,
		"Maintenances": sm, "History": newest, "Timeline": timeline(hist, now),
		"Contacts": routedContacts(rt, &c), "LastNotifications": lastNotes,
		"Decisions": decisions, "DecisionLog": kept,
	}}, nil
}

func (h *handler) contacts(r *http.Request) (view, error) {
	match, err := nameMatcher(r.URL.Query().Get("name"))
	if err != nil {
		return view{}, err
	}
	rt, err := h.st.Routing(r.Context())
	if err != nil {
		return view{}, err
	}
	var list []*flapjack.Contact
	for _, c := range rt.Contacts {
		if match(c.Name) {
			list = append(list, c)
		}
	}
	slices.SortFunc(list, func(a, b *flapjack.Contact) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	list, p := paginate(r, list, h.opts.PageSize)
	return view{"contacts", map[string]any{"Title": "Contacts", "Contacts": list, "Pager": p, "Name": r.URL.Query().Get("name")}}, nil
}

func (h *handler) contact(r *http.Request) (view, error) {
	ctx := r.Context()
	rt, err := h.st.Routing(ctx)
	if err != nil {
		return view{}, err
	}
	ct := rt.Contacts[r.PathValue("id")]
	if ct == nil {
		return view{}, notFound("No contact with id %q.", r.PathValue("id"))
	}
	type mediumRow struct {
		*flapjack.Medium
		// Rollup is whether the medium is in summary mode now.
		Rollup bool
	}
	var media []mediumRow
	for _, m := range rt.Media {
		if m.ContactID != ct.ID {
			continue
		}
		ms, err := h.st.MediumState(ctx, m.ID)
		if err != nil {
			return view{}, err
		}
		media = append(media, mediumRow{m, ms.LastRollupType == flapjack.RollupProblem})
	}
	slices.SortFunc(media, func(a, b mediumRow) int {
		return cmp.Compare(a.Transport+a.Address+a.ID, b.Transport+b.Address+b.ID)
	})
	type ruleRow struct {
		*flapjack.Rule
		Media []string
	}
	var rules []ruleRow
	for _, rule := range rt.Rules {
		if rule.ContactID != ct.ID {
			continue
		}
		row := ruleRow{Rule: rule}
		for _, id := range rule.MediaIDs {
			if m := rt.Media[id]; m != nil {
				row.Media = append(row.Media, m.Transport)
			}
		}
		rules = append(rules, row)
	}
	checks, err := h.st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return view{}, err
	}
	var visible []checkRow
	for _, c := range checks {
		if !c.Enabled {
			continue
		}
		if slices.ContainsFunc(rules, func(rr ruleRow) bool {
			return rr.Enabled && !rr.Blackhole && rr.Strategy.MatchesTags(rr.Tags, c.Tags)
		}) {
			visible = append(visible, newCheckRow(c))
		}
	}
	return view{"contact", map[string]any{"Title": ct.Name, "Contact": ct, "Media": media, "Rules": rules, "Checks": visible}}, nil
}

func (h *handler) tags(r *http.Request) (view, error) {
	match, err := nameMatcher(r.URL.Query().Get("name"))
	if err != nil {
		return view{}, err
	}
	checks, err := h.st.QueryChecks(r.Context(), store.CheckQuery{})
	if err != nil {
		return view{}, err
	}
	rt, err := h.st.Routing(r.Context())
	if err != nil {
		return view{}, err
	}
	count := map[string]int{}
	for _, rule := range rt.Rules {
		for _, t := range rule.Tags {
			count[t] = 0 // listed even when no check carries it
		}
	}
	for _, c := range rt.Contacts {
		for _, t := range c.Tags {
			count[t] = 0
		}
	}
	for _, c := range checks {
		for _, t := range c.Tags {
			count[t]++
		}
	}
	type tagRow struct {
		Name   string
		Checks int
	}
	var rows []tagRow
	for t, n := range count {
		if match(t) {
			rows = append(rows, tagRow{t, n})
		}
	}
	slices.SortFunc(rows, func(a, b tagRow) int { return cmp.Compare(a.Name, b.Name) })
	rows, p := paginate(r, rows, h.opts.PageSize)
	return view{"tags", map[string]any{"Title": "Tags", "Tags": rows, "Pager": p, "Name": r.URL.Query().Get("name")}}, nil
}

func (h *handler) tag(r *http.Request) (view, error) {
	name := r.PathValue("name")
	checks, err := h.st.QueryChecks(r.Context(), store.CheckQuery{})
	if err != nil {
		return view{}, err
	}
	var rows []checkRow
	for _, c := range checks {
		if c.HasTag(name) {
			rows = append(rows, newCheckRow(c))
		}
	}
	rt, err := h.st.Routing(r.Context())
	if err != nil {
		return view{}, err
	}
	var rules []*flapjack.Rule
	for _, rule := range rt.Rules {
		if slices.Contains(rule.Tags, name) {
			rules = append(rules, rule)
		}
	}
	var tagged []*flapjack.Contact
	for _, c := range rt.Contacts {
		if slices.Contains(c.Tags, name) {
			tagged = append(tagged, c)
		}
	}
	slices.SortFunc(tagged, func(a, b *flapjack.Contact) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	if len(rows) == 0 && len(rules) == 0 && len(tagged) == 0 {
		return view{}, notFound("No check, contact or rule is tagged %q.", name)
	}
	return view{"tag", map[string]any{"Title": "Tag " + name, "Tag": name, "Rows": rows, "Rules": rules,
		"Contacts": rt.Contacts, "Tagged": tagged}}, nil
}

var freshnessBuckets = []int64{0, 60, 300, 900, 3600}

func (h *handler) selfStats(r *http.Request) (view, error) {
	ctx := r.Context()
	now := h.opts.Clock.Now()
	queued, err := h.st.Queue(h.opts.EventsQueue).Len(ctx)
	if err != nil {
		return view{}, err
	}
	stats, err := h.st.Statistics(ctx)
	if err != nil {
		return view{}, err
	}
	checks, err := h.st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return view{}, err
	}
	enabled, failing, disabled := 0, 0, 0
	fresh := make([]int, len(freshnessBuckets))
	for _, c := range checks {
		if !c.Enabled {
			disabled++
			continue
		}
		enabled++
		if c.Failing {
			failing++
		}
		if c.CurrentState == nil {
			continue
		}
		age := int64(now.Sub(c.CurrentState.UpdatedAt) / time.Second)
		b := 0
		for i, lim := range freshnessBuckets {
			if age >= lim {
				b = i
			}
		}
		fresh[b]++
	}
	type bucket struct {
		Label  string
		Checks int
	}
	var buckets []bucket
	for i, lim := range freshnessBuckets {
		label := fmt.Sprintf("%d s or more", lim)
		if i+1 < len(freshnessBuckets) {
			label = fmt.Sprintf("%d–%d s", lim, freshnessBuckets[i+1])
		}
		buckets = append(buckets, bucket{label, fresh[i]})
	}
	type instance struct {
		store.Statistic
		Uptime                                             time.Duration
		AllRate, OKRate, FailRate, ActionRate, InvalidRate string
	}
	var global store.Statistic
	var instances []instance
	for _, s := range stats {
		if s.Instance == store.GlobalStatistic {
			global = s
			continue
		}
		up := now.Sub(s.CreatedAt)
		rate := func(n int64) string {
			if up <= 0 {
				return "–"
			}
			return strconv.FormatFloat(float64(n)/up.Seconds(), 'f', 2, 64)
		}
		instances = append(instances, instance{s, up.Truncate(time.Second),
			rate(s.AllEvents), rate(s.OKEvents), rate(s.FailureEvents), rate(s.ActionEvents), rate(s.InvalidEvents)})
	}
	d := map[string]any{"Title": "Internal Statistics", "Queued": queued,
		"Enabled": enabled, "Failing": failing, "Disabled": disabled, "Global": global.Statistics,
		"Freshness": buckets, "Instances": instances, "EventsQueue": h.opts.EventsQueue}
	if kc, ok := h.st.(store.KeyCounter); ok {
		n, err := kc.KeyCount(ctx)
		if err != nil {
			return view{}, err
		}
		d["TotalKeys"] = &n // shown even when 0
	}
	return view{"self_stats", d}, nil
}

// ---- actions ----

func checkPath(id string) string { return "/checks/" + url.PathEscape(id) }

// formCheck finds the check named by the form's check_id.
func (h *handler) formCheck(r *http.Request) (flapjack.Check, string, error) {
	id := r.PostForm.Get("check_id")
	if id == "" {
		return flapjack.Check{}, "", &httpError{http.StatusBadRequest, "check_id is required"}
	}
	c, err := h.st.CheckByID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return c, "", notFound("No check with id %q.", id)
	}
	return c, checkPath(id), err
}

// ackDuration reads an acknowledgement's length; unreadable or not positive
// means DefaultAckDuration.
func ackDuration(s string) time.Duration {
	d, err := config.ParseDuration(s)
	if err != nil || d < time.Second {
		return DefaultAckDuration
	}
	return d
}

func (h *handler) acknowledge(r *http.Request) (string, string, error) {
	c, back, err := h.formCheck(r)
	if err != nil {
		return back, "", err
	}
	if !c.Failing || !c.Enabled {
		return back, "", errors.New("the check is not failing; there is nothing to acknowledge")
	}
	secs := int64(ackDuration(r.PostForm.Get("duration")) / time.Second)
	ev, err := json.Marshal(flapjack.Event{Check: c.Name, State: string(flapjack.Acknowledgement),
		Summary: strings.TrimSpace(r.PostForm.Get("summary")), Duration: &secs,
		AcknowledgementID: c.AckHash, Time: h.opts.Clock.Now().Unix()})
	if err != nil {
		return back, "", err
	}
	if err := h.st.Queue(h.opts.EventsQueue).Push(r.Context(), ev); err != nil {
		return back, "", err
	}
	return back, fmt.Sprintf("Acknowledgement for %s sent; it takes effect once the processor has handled it.",
		relative(time.Duration(secs)*time.Second)), nil
}

// maintenanceOwner finds the check holding maintenance id.
func (h *handler) maintenanceOwner(ctx context.Context, id string, scheduled bool) (flapjack.Check, error) {
	checks, err := h.st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return flapjack.Check{}, err
	}
	for _, c := range checks {
		ms := c.UnscheduledMaintenances
		if scheduled {
			ms = c.ScheduledMaintenances
		}
		if slices.ContainsFunc(ms, func(m flapjack.Maintenance) bool { return m.ID == id }) {
			return c, nil
		}
	}
	return flapjack.Check{}, notFound("No maintenance with id %q.", id)
}

func (h *handler) endUnscheduled(r *http.Request) (string, string, error) {
	id := r.PathValue("id")
	c, err := h.maintenanceOwner(r.Context(), id, false)
	if err != nil {
		return "", "", err
	}
	now := h.opts.Clock.Now()
	_, err = h.st.UpdateCheck(r.Context(), c.Name, false, func(u *store.CheckUpdate) error {
		ms := u.Check.UnscheduledMaintenances
		i := slices.IndexFunc(ms, func(m flapjack.Maintenance) bool { return m.ID == id })
		switch {
		case i < 0:
			return notFound("No maintenance with id %q.", id)
		case ms[i].Start.After(now):
			u.Check.UnscheduledMaintenances = slices.Delete(slices.Clone(ms), i, i+1)
		case ms[i].End.After(now):
			ms[i].End = now
		default:
			return errors.New("the unscheduled maintenance is already over")
		}
		return nil
	})
	return checkPath(c.ID), "Unscheduled maintenance ended.", err
}

// parseTime reads a start time: "now", RFC 3339, "2006-01-02 15:04[:05]"
// (also with a T, as a datetime-local field sends it) in now's location,
// "in 2 hours" or "2 hours from now".
func parseTime(s string, now time.Time) (time.Time, error) {
	text := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if text == "now" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339, strings.ToUpper(text)); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02t15:04:05", "2006-01-02t15:04"} {
		if t, err := time.ParseInLocation(layout, text, now.Location()); err == nil {
			return t, nil
		}
	}
	rest, ok := strings.CutPrefix(text, "in ")
	if !ok {
		rest, ok = strings.CutSuffix(text, " from now")
	}
	if ok {
		if d, err := config.ParseDuration(rest); err == nil {
			return now.Add(d), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read the start time %q (try \"now\", \"in 2 hours\" or \"2026-05-01 09:00\")", s)
}

func (h *handler) addScheduled(r *http.Request) (string, string, error) {
	c, back, err := h.formCheck(r)
	if err != nil {
		return back, "", err
	}
	now := h.opts.Clock.Now()
	start, err := parseTime(r.PostForm.Get("start_time"), now)
	if err != nil {
		return back, "", err
	}
	d, err := config.ParseDuration(r.PostForm.Get("duration"))
	if err != nil {
		return back, "", fmt.Errorf("cannot read the duration: %w", err)
	}
	if d <= 0 {
		return back, "", errors.New("the duration must be positive")
	}
	m := flapjack.Maintenance{ID: uuid.NewString(), Start: start, End: start.Add(d), Summary: strings.TrimSpace(r.PostForm.Get("summary"))}
	_, err = h.st.UpdateCheck(r.Context(), c.Name, false, func(u *store.CheckUpdate) error {
		u.Check.ScheduledMaintenances = append(slices.Clone(u.Check.ScheduledMaintenances), m)
		return nil
	})
	return back, "Scheduled maintenance added.", err
}

func (h *handler) endScheduled(r *http.Request) (string, string, error) {
	id := r.PathValue("id")
	c, err := h.maintenanceOwner(r.Context(), id, true)
	if err != nil {
		return "", "", err
	}
	now := h.opts.Clock.Now()
	_, err = h.st.UpdateCheck(r.Context(), c.Name, false, func(u *store.CheckUpdate) error {
		u.Check.ScheduledMaintenances = slices.Clone(u.Check.ScheduledMaintenances)
		return u.Check.EndScheduledMaintenance(id, now)
	})
	if errors.Is(err, flapjack.ErrMaintenanceOver) {
		err = errors.New("the scheduled maintenance is already over")
	}
	return checkPath(c.ID), "Scheduled maintenance ended.", err
}

func (h *handler) deleteScheduled(r *http.Request) (string, string, error) {
	id := r.PathValue("id")
	c, err := h.maintenanceOwner(r.Context(), id, true)
	if err != nil {
		return "", "", err
	}
	_, err = h.st.UpdateCheck(r.Context(), c.Name, false, func(u *store.CheckUpdate) error {
		u.Check.ScheduledMaintenances = slices.DeleteFunc(slices.Clone(u.Check.ScheduledMaintenances),
			func(m flapjack.Maintenance) bool { return m.ID == id })
		return nil
	})
	return checkPath(c.ID), "Scheduled maintenance deleted.", err
}

func (h *handler) disable(r *http.Request) (string, string, error) {
	c, err := h.st.CheckByID(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return "", "", notFound("No check with id %q.", r.PathValue("id"))
	}
	if err != nil {
		return "", "", err
	}
	_, err = h.st.UpdateCheck(r.Context(), c.Name, false, func(u *store.CheckUpdate) error {
		u.Check.Enabled = false
		return nil
	})
	if err != nil {
		return checkPath(c.ID), "", err
	}
	return "/", fmt.Sprintf("Check %s decommissioned.", c.Name), nil
}
