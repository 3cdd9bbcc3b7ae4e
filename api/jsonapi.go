package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/store"
)

// MediaType is the JSON:API media type requests must carry.
const MediaType = "application/vnd.api+json"

// responseContentType is the Content-Type of every JSON:API answer.
const responseContentType = MediaType + "; supported-ext=bulk; charset=utf-8"

// maxBody bounds the request bodies the JSON:API reads: 8 MiB.
const maxBody = 8 << 20

// Options configure Handler. The zero value serves a working API.
type Options struct {
	// Log receives request failures. Default: discard.
	Log *slog.Logger
	// Clock gives the time for maintenances and computed relationships.
	// Default: flapjack.SystemClock.
	Clock flapjack.Clock
	// EventsQueue is the queue acknowledgements, test notifications and POST
	// /events push onto. Default: "events".
	EventsQueue string
	// Prometheus, when set, answers GET /metrics for requests whose Accept header
	// does not ask for the JSON:API media type, so that scrapers and JSON:API
	// clients share the path.
	Prometheus http.Handler
	// DefaultTimezone is the zone of rules whose contact has none, for the
	// computed alerting_media of checks. Default: UTC.
	DefaultTimezone *time.Location
}

// apiError is an answer other than success: a status and its details.
type apiError struct {
	status  int
	details []string
}

func (e *apiError) Error() string {
	return strconv.Itoa(e.status) + ": " + strings.Join(e.details, "; ")
}

func errorf(status int, format string, args ...any) *apiError {
	return &apiError{status: status, details: []string{fmt.Sprintf(format, args...)}}
}

// kind is how an attribute is filtered and sorted.
type kind int

const (
	kString kind = iota
	kBool
	kInt
	kTime
	kOther // readable, neither filterable nor sortable
)

type attrSpec struct {
	name string
	kind kind
}

type relSpec struct {
	typ        string // the related resource's type
	toMany     bool
	includable bool
}

// record is one resource object as the framework sees it.
type record struct {
	id    string
	attrs map[string]any
	// rels holds the linkage of relationships known at once: ids of rels[name].
	rels map[string][]string
	// lazy computes the linkage of the others, only when asked for.
	lazy func(ctx context.Context, name string) ([]string, error)
}

// linkage returns the ids of rec's relationship name.
func (rec *record) linkage(ctx context.Context, name string) ([]string, error) {
	if ids, ok := rec.rels[name]; ok || rec.lazy == nil {
		return ids, nil
	}
	return rec.lazy(ctx, name)
}

// input is one resource object of a request body.
type input struct {
	Type          string                     `json:"type"`
	ID            string                     `json:"id"`
	Attributes    map[string]json.RawMessage `json:"attributes"`
	Relationships map[string]relInput        `json:"relationships"`
}

// relInput is a relationship of a request body: to-one, to-many or null.
type relInput struct {
	ids    []string
	toMany bool
	null   bool
}

func (r *relInput) UnmarshalJSON(b []byte) error {
	var v struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	ids, toMany, null, err := parseLinkage(v.Data, "")
	if err != nil {
		return err
	}
	*r = relInput{ids: ids, toMany: toMany, null: null}
	return nil
}

type identifier struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// parseLinkage reads resource linkage: null, {type,id} or [{type,id}…]. When
// typ is set every identifier must carry it.
func parseLinkage(raw json.RawMessage, typ string) (ids []string, toMany, null bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, false, false, errors.New("relationship data must be provided")
	}
	if string(raw) == "null" {
		return nil, false, true, nil
	}
	var list []identifier
	if raw[0] == '[' {
		toMany = true
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, false, false, errors.New("malformed relationship data")
		}
	} else {
		var one identifier
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, false, false, errors.New("malformed relationship data")
		}
		list = []identifier{one}
	}
	for _, l := range list {
		if l.ID == "" || l.Type == "" {
			return nil, false, false, errors.New("malformed relationship data: type and id are required")
		}
		if typ != "" && l.Type != typ {
			return nil, false, false, fmt.Errorf("relationship type %q does not match %q", l.Type, typ)
		}
		ids = append(ids, l.ID)
	}
	return ids, toMany, false, nil
}

// resource is one JSON:API resource type and how it reads and writes its records.
type resource struct {
	typ     string // singular, as in "type"
	path    string // plural, as in the URL
	title   string // for messages: "Check"
	attrs   []attrSpec
	rels    map[string]relSpec
	rangeOK map[string]bool // time attributes that take a..b filters

	// list returns every record. get returns one (ErrNotFound when missing);
	// when nil it is served from list.
	list func(ctx context.Context) ([]*record, error)
	get  func(ctx context.Context, id string) (*record, error)
	// create validates every input, then saves them all; it returns the new ids.
	create func(ctx context.Context, ins []*input) ([]string, error)
	// update validates every input (each with an id), then saves them all.
	update func(ctx context.Context, ins []*input) error
	// remove deletes records whose existence was checked.
	remove func(ctx context.Context, ids []string) error
	// link replaces the ids of a writable to-many relationship.
	link func(ctx context.Context, id, rel string, ids []string) error
	// writable names the relationships link takes.
	writable map[string]bool
}

func (rs *resource) attr(name string) (attrSpec, bool) {
	if name == "id" {
		return attrSpec{name: "id", kind: kString}, true
	}
	for _, a := range rs.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attrSpec{}, false
}

func (rs *resource) fetch(ctx context.Context, id string) (*record, error) {
	if rs.get != nil {
		return rs.get(ctx, id)
	}
	all, err := rs.list(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range all {
		if r.id == id {
			return r, nil
		}
	}
	return nil, store.ErrNotFound
}

func (rs *resource) notFound(id string) *apiError {
	return errorf(http.StatusNotFound, "could not find %s record, id: '%s'", rs.title, id)
}

// server is the JSON:API handler.
type server struct {
	st        store.Store
	opts      Options
	log       *slog.Logger
	router    *notifier.Router
	resources map[string]*resource // by type
	byPath    map[string]*resource
	routes    []string // the patterns of the mux, for GET /doc
}

// Handler returns the JSON:API of Flapjack v2 over st, with POST /events, the
// event intake, beside it.
func Handler(st store.Store, opts Options) http.Handler {
	_, h := newHandler(st, opts)
	return h
}

// newHandler is Handler, with the server behind it.
func newHandler(st store.Store, opts Options) (*server, http.Handler) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = flapjack.SystemClock{}
	}
	if opts.EventsQueue == "" {
		opts.EventsQueue = "events"
	}
	s := &server{st: st, opts: opts, log: opts.Log, router: &notifier.Router{DefaultTimezone: opts.DefaultTimezone}, resources: map[string]*resource{}, byPath: map[string]*resource{}}
	for _, rs := range []*resource{s.checks(), s.tags(), s.contacts(), s.media(), s.rules(), s.statistics(),
		s.maintenances(true), s.maintenances(false), s.states()} {
		s.resources[rs.typ] = rs
		s.byPath[rs.path] = rs
	}
	mux := routeMux{http.NewServeMux(), &s.routes}
	events := EventsHandler(st.Queue(opts.EventsQueue), opts.Log)
	mux.Handle("/events", events)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		if opts.Prometheus != nil && !strings.Contains(r.Header.Get("Accept"), MediaType) {
			opts.Prometheus.ServeHTTP(w, r)
			return
		}
		s.serve(w, r, s.getMetrics)
	})
	mux.HandleFunc("GET /doc", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.getDoc) })
	mux.HandleFunc("POST /acknowledgements", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.postAcknowledgements) })
	mux.HandleFunc("POST /test_notifications", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.postTestNotifications) })
	mux.HandleFunc("/checks/{id}/decisions", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.getDecisions) })
	mux.HandleFunc("/{path}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.collection) })
	mux.HandleFunc("/{path}/{id}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.single) })
	mux.HandleFunc("/{path}/{id}/{rel}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.relationship) })
	mux.HandleFunc("/{path}/{id}/relationships/{rel}", func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, s.relationship) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.serve(w, r, func(http.ResponseWriter, *http.Request) error {
			return errorf(http.StatusNotFound, "Not found: %s %s", r.Method, r.URL.Path)
		})
	})
	return s, s.frame(mux)
}

// frame adds CORS to every answer, answers OPTIONS, and turns a panic into a 500.
func (s *server) frame(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "*, Content-Type, Accept, Authorization, Cache-Control")
		h.Set("Access-Control-Expose-Headers", "Cache-Control, Content-Language, Content-Type, Expires, Last-Modified, Pragma")
		h.Set("Access-Control-Max-Age", "1728000")
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("api request panicked", "method", r.Method, "path", r.URL.Path, "panic", v)
				writeErrors(w, errorf(http.StatusInternalServerError, "internal error"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// serve runs fn and answers its error.
func (s *server) serve(w http.ResponseWriter, r *http.Request, fn func(http.ResponseWriter, *http.Request) error) {
	err := fn(w, r)
	if err == nil {
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) {
		switch {
		case errors.Is(err, store.ErrNotFound):
			ae = errorf(http.StatusNotFound, "%v", err)
		case errors.Is(err, store.ErrConflict):
			ae = errorf(http.StatusConflict, "%v", err)
		default:
			s.log.Error("api request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			ae = errorf(http.StatusInternalServerError, "internal error")
		}
	}
	writeErrors(w, ae)
}

func writeErrors(w http.ResponseWriter, e *apiError) {
	type item struct {
		Status string `json:"status"`
		Detail string `json:"detail"`
	}
	body := struct {
		Errors []item `json:"errors"`
	}{}
	for _, d := range e.details {
		body.Errors = append(body.Errors, item{Status: strconv.Itoa(e.status), Detail: d})
	}
	writeDoc(w, e.status, body)
}

func writeDoc(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"errors":[{"status":"500","detail":"internal error"}]}`)
	}
	w.Header().Set("Content-Type", responseContentType)
	w.WriteHeader(status)
	w.Write(b)
}

func (s *server) resourceFor(r *http.Request) (*resource, error) {
	rs, ok := s.byPath[r.PathValue("path")]
	if !ok {
		return nil, errorf(http.StatusNotFound, "Not found: %s %s", r.Method, r.URL.Path)
	}
	return rs, nil
}

func methodNotAllowed(r *http.Request) error {
	return errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path)
}

func (s *server) collection(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.resourceFor(r)
	if err != nil {
		return err
	}
	switch {
	case r.Method == http.MethodGet:
		return s.getCollection(w, r, rs)
	case r.Method == http.MethodPost && rs.create != nil:
		return s.post(w, r, rs)
	case r.Method == http.MethodPatch && rs.update != nil:
		return s.patch(w, r, rs, "")
	case r.Method == http.MethodDelete && rs.remove != nil:
		return s.deleteBulk(w, r, rs)
	}
	return methodNotAllowed(r)
}

func (s *server) single(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.resourceFor(r)
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	switch {
	case r.Method == http.MethodGet:
		q, err := parseQuery(r.URL.Query(), rs, s)
		if err != nil {
			return err
		}
		rec, err := rs.fetch(r.Context(), id)
		if errors.Is(err, store.ErrNotFound) {
			return rs.notFound(id)
		} else if err != nil {
			return err
		}
		doc, err := s.document(r, rs, []*record{rec}, q)
		if err != nil {
			return err
		}
		doc["data"] = doc["data"].([]any)[0]
		doc["links"] = map[string]string{"self": requestURL(r)}
		writeDoc(w, http.StatusOK, doc)
		return nil
	case r.Method == http.MethodPatch && rs.update != nil:
		return s.patch(w, r, rs, id)
	case r.Method == http.MethodDelete && rs.remove != nil:
		if _, err := rs.fetch(r.Context(), id); errors.Is(err, store.ErrNotFound) {
			return rs.notFound(id)
		} else if err != nil {
			return err
		}
		if err := rs.remove(r.Context(), []string{id}); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return methodNotAllowed(r)
}

// query is a collection GET's parameters.
type query struct {
	filters []filter
	sort    []sortKey
	page    int
	perPage int
	include []string
	fields  map[string]map[string]bool // type → attributes
}

type filter struct {
	attr  attrSpec
	match func(v any) bool
}

type sortKey struct {
	attr string
	desc bool
}

var falses = map[string]bool{"0": true, "f": true, "false": true, "n": true, "no": true}
var trues = map[string]bool{"1": true, "t": true, "true": true, "y": true, "yes": true}

func parseQuery(v url.Values, rs *resource, s *server) (*query, error) {
	q := &query{page: 1, perPage: 20, fields: map[string]map[string]bool{}}
	for _, key := range []string{"page", "per_page"} {
		if raw := v.Get(key); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < 1 {
				return nil, errorf(http.StatusForbidden, "%s must be a positive integer", key)
			}
			if key == "page" {
				q.page = n
			} else {
				q.perPage = n
			}
		}
	}
	for _, raw := range append(v["filter"], v["filter[]"]...) {
		f, err := parseFilter(raw, rs)
		if err != nil {
			return nil, err
		}
		q.filters = append(q.filters, f)
	}
	if raw := v.Get("sort"); raw != "" {
		for _, part := range strings.Split(raw, ",") {
			if len(part) < 2 || (part[0] != '+' && part[0] != '-') {
				return nil, errorf(http.StatusForbidden, "Invalid sort key: %q (a + or - sign is required)", part)
			}
			a, ok := rs.attr(part[1:])
			if !ok || a.kind == kOther {
				return nil, errorf(http.StatusForbidden, "Invalid sort key: %q", part[1:])
			}
			q.sort = append(q.sort, sortKey{attr: a.name, desc: part[0] == '-'})
		}
	}
	if raw := v.Get("include"); raw != "" {
		for _, path := range strings.Split(raw, ",") {
			cur := rs
			for _, seg := range strings.Split(path, ".") {
				rel, ok := cur.rels[seg]
				next := s.resources[rel.typ]
				if !ok || !rel.includable || next == nil {
					return nil, errorf(http.StatusForbidden, "Invalid include: %q", path)
				}
				cur = next
			}
			q.include = append(q.include, path)
		}
	}
	for key, vals := range v {
		if !strings.HasPrefix(key, "fields[") || !strings.HasSuffix(key, "]") {
			continue
		}
		typ := key[len("fields[") : len(key)-1]
		target := s.resources[typ]
		if target == nil {
			return nil, errorf(http.StatusForbidden, "Invalid fields type: %q", typ)
		}
		set := map[string]bool{}
		for _, val := range vals {
			for _, name := range strings.Split(val, ",") {
				if _, ok := target.attr(name); !ok || name == "id" {
					return nil, errorf(http.StatusForbidden, "Invalid fields for %s: %q", typ, name)
				}
				set[name] = true
			}
		}
		q.fields[typ] = set
	}
	return q, nil
}

func parseFilter(raw string, rs *resource) (filter, error) {
	key, val, ok := strings.Cut(raw, ":")
	a, known := rs.attr(key)
	if !ok || !known || a.kind == kOther {
		return filter{}, errorf(http.StatusForbidden, "Invalid filter key: %q", key)
	}
	bad := func() (filter, error) {
		return filter{}, errorf(http.StatusForbidden, "Invalid filter value for %s: %q", key, val)
	}
	switch a.kind {
	case kBool:
		switch want := strings.ToLower(val); {
		case trues[want]:
			return filter{a, func(v any) bool { b, _ := v.(bool); return b }}, nil
		case falses[want]:
			return filter{a, func(v any) bool { b, _ := v.(bool); return !b }}, nil
		}
		return bad()
	case kInt:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return bad()
		}
		return filter{a, func(v any) bool { p, ok := v.(*int64); return ok && p != nil && *p == n }}, nil
	case kTime:
		lo, hi, isRange := strings.Cut(val, "..")
		if isRange && !rs.rangeOK[key] {
			return bad()
		}
		parse := func(s string) (time.Time, bool) {
			if s == "" {
				return time.Time{}, true
			}
			t, err := time.Parse(time.RFC3339, s)
			return t, err == nil
		}
		from, ok1 := parse(lo)
		to, ok2 := parse(hi)
		if !ok1 || !ok2 || (!isRange && lo == "") || (!from.IsZero() && !to.IsZero() && to.Before(from)) {
			return bad()
		}
		if !isRange {
			to = from
		}
		return filter{a, func(v any) bool {
			t, ok := v.(time.Time)
			return ok && !t.IsZero() && (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
		}}, nil
	}
	if len(val) >= 2 && val[0] == '/' && val[len(val)-1] == '/' {
		re, err := regexp.Compile(val[1 : len(val)-1])
		if err != nil {
			return bad()
		}
		return filter{a, func(v any) bool { s, ok := v.(string); return ok && re.MatchString(s) }}, nil
	}
	anyOf := strings.Split(val, "|")
	return filter{a, func(v any) bool { s, ok := v.(string); return ok && slices.Contains(anyOf, s) }}, nil
}

func value(rec *record, name string) any {
	if name == "id" {
		return rec.id
	}
	return rec.attrs[name]
}

func compare(a, b any) int {
	switch x := a.(type) {
	case string:
		y, _ := b.(string)
		return strings.Compare(x, y)
	case bool:
		y, _ := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case *int64:
		y, _ := b.(*int64)
		switch {
		case x == nil && y == nil:
			return 0
		case x == nil:
			return -1
		case y == nil:
			return 1
		}
		return int(min(max(*x-*y, -1), 1))
	case time.Time:
		y, _ := b.(time.Time)
		return x.Compare(y)
	case nil:
		if b == nil {
			return 0
		}
		return -1
	}
	return 0
}

func (s *server) getCollection(w http.ResponseWriter, r *http.Request, rs *resource) error {
	q, err := parseQuery(r.URL.Query(), rs, s)
	if err != nil {
		return err
	}
	all, err := rs.list(r.Context())
	if err != nil {
		return err
	}
	selected := all[:0:0]
	for _, rec := range all {
		if slices.IndexFunc(q.filters, func(f filter) bool { return !f.match(value(rec, f.attr.name)) }) < 0 {
			selected = append(selected, rec)
		}
	}
	keys := append(q.sort, sortKey{attr: "id"})
	slices.SortStableFunc(selected, func(a, b *record) int {
		for _, k := range keys {
			if c := compare(value(a, k.attr), value(b, k.attr)); c != 0 {
				if k.desc {
					return -c
				}
				return c
			}
		}
		return 0
	})
	from, to := paginate(w, r, len(selected), q.page, q.perPage, nil)
	doc, err := s.document(r, rs, selected[from:to], q)
	if err != nil {
		return err
	}
	paginate(w, r, len(selected), q.page, q.perPage, doc)
	writeDoc(w, http.StatusOK, doc)
	return nil
}

// paginate returns the bounds of page of total items; given doc, it sets the
// document's links and meta and the Link and Total-Count headers.
func paginate(w http.ResponseWriter, r *http.Request, total, page, perPage int, doc map[string]any) (from, to int) {
	pages := max((total+perPage-1)/perPage, 1)
	if perPage > total { // no overflow of total+perPage-1
		pages = 1
	}
	from = total
	if page-1 <= total/perPage { // no overflow of huge page numbers
		from = min((page-1)*perPage, total)
	}
	to = from + min(perPage, total-from)
	if doc == nil {
		return from, to
	}
	links := map[string]string{"self": requestURL(r), "first": pageURL(r, 1), "last": pageURL(r, pages)}
	if page > 1 {
		links["prev"] = pageURL(r, min(page-1, pages))
	}
	if page < pages {
		links["next"] = pageURL(r, page+1)
	}
	doc["links"] = links
	doc["meta"] = map[string]any{"pagination": map[string]int{
		"page": page, "per_page": perPage, "total_pages": pages, "total_count": total,
	}}
	var link []string
	for _, rel := range []string{"first", "prev", "next", "last"} {
		if u, ok := links[rel]; ok {
			link = append(link, fmt.Sprintf("<%s>; rel=%q", u, rel))
		}
	}
	w.Header().Set("Link", strings.Join(link, ", "))
	w.Header().Set("Total-Count", strconv.Itoa(total))
	return from, to
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func requestURL(r *http.Request) string { return baseURL(r) + r.URL.RequestURI() }

func pageURL(r *http.Request, page int) string {
	v := r.URL.Query()
	v.Set("page", strconv.Itoa(page))
	return baseURL(r) + r.URL.Path + "?" + v.Encode()
}

// document builds {"data": [...], "included": [...]} for recs.
func (s *server) document(r *http.Request, rs *resource, recs []*record, q *query) (map[string]any, error) {
	base := baseURL(r)
	fetch := s.fetcher()
	// linked[type/id][rel] is set when that relationship's data is included.
	linked := map[string]map[string]bool{}
	var included []any
	seen := map[string]bool{}
	for _, rec := range recs {
		seen[rs.typ+"/"+rec.id] = true
	}
	type node struct {
		rs  *resource
		rec *record
	}
	var objs []any
	for _, path := range q.include {
		level := make([]node, len(recs))
		for i, rec := range recs {
			level[i] = node{rs, rec}
		}
		for _, seg := range strings.Split(path, ".") {
			var next []node
			for _, n := range level {
				key := n.rs.typ + "/" + n.rec.id
				if linked[key] == nil {
					linked[key] = map[string]bool{}
				}
				linked[key][seg] = true
				target := s.resources[n.rs.rels[seg].typ]
				ids, err := n.rec.linkage(r.Context(), seg)
				if err != nil {
					return nil, err
				}
				n.rec.rels = withRel(n.rec.rels, seg, ids)
				for _, id := range ids {
					rec, err := fetch(r.Context(), target, id)
					if errors.Is(err, store.ErrNotFound) {
						continue
					} else if err != nil {
						return nil, err
					}
					next = append(next, node{target, rec})
					if k := target.typ + "/" + id; !seen[k] {
						seen[k] = true
						included = append(included, s.object(base, target, rec, q, nil))
					}
				}
			}
			level = next
		}
	}
	// Included objects were built before linkage was known: rebuild them.
	for i, obj := range included {
		o := obj.(map[string]any)
		target := s.resources[o["type"].(string)]
		rec, _ := fetch(r.Context(), target, o["id"].(string))
		if rec != nil {
			included[i] = s.object(base, target, rec, q, linked[target.typ+"/"+rec.id])
		}
	}
	for _, rec := range recs {
		objs = append(objs, s.object(base, rs, rec, q, linked[rs.typ+"/"+rec.id]))
	}
	if objs == nil {
		objs = []any{}
	}
	doc := map[string]any{"data": objs}
	if included != nil {
		doc["included"] = included
	}
	return doc, nil
}

// withRel returns rels with name set to ids, copying rels first.
func withRel(rels map[string][]string, name string, ids []string) map[string][]string {
	out := make(map[string][]string, len(rels)+1)
	for k, v := range rels {
		out[k] = v
	}
	out[name] = ids
	return out
}

// fetcher returns a fetch that lists each resource without a get at most once.
func (s *server) fetcher() func(ctx context.Context, rs *resource, id string) (*record, error) {
	lists := map[string]map[string]*record{}
	got := map[string]*record{}
	return func(ctx context.Context, rs *resource, id string) (*record, error) {
		if rs.get != nil {
			if rec, ok := got[rs.typ+"/"+id]; ok {
				return rec, nil
			}
			rec, err := rs.get(ctx, id)
			if err == nil {
				got[rs.typ+"/"+id] = rec
			}
			return rec, err
		}
		byID, ok := lists[rs.typ]
		if !ok {
			all, err := rs.list(ctx)
			if err != nil {
				return nil, err
			}
			byID = make(map[string]*record, len(all))
			for _, rec := range all {
				byID[rec.id] = rec
			}
			lists[rs.typ] = byID
		}
		if rec, ok := byID[id]; ok {
			return rec, nil
		}
		return nil, store.ErrNotFound
	}
}

// object renders one record; withData names the relationships whose linkage is shown.
func (s *server) object(base string, rs *resource, rec *record, q *query, withData map[string]bool) map[string]any {
	attrs := map[string]any{}
	only := q.fields[rs.typ]
	for _, a := range rs.attrs {
		if only != nil && !only[a.name] {
			continue
		}
		v := rec.attrs[a.name]
		switch x := v.(type) {
		case time.Time:
			if x.IsZero() {
				v = nil
			} else {
				v = x.UTC().Format(time.RFC3339)
			}
		case *int64:
			if x == nil {
				v = nil
			} else {
				v = *x
			}
		}
		attrs[a.name] = v
	}
	obj := map[string]any{"id": rec.id, "type": rs.typ, "attributes": attrs}
	if len(rs.rels) > 0 {
		rels := map[string]any{}
		for name, spec := range rs.rels {
			rel := map[string]any{"links": map[string]string{
				"self":    fmt.Sprintf("%s/%s/%s/relationships/%s", base, rs.path, rec.id, name),
				"related": fmt.Sprintf("%s/%s/%s/%s", base, rs.path, rec.id, name),
			}}
			if withData[name] {
				ids := rec.rels[name]
				if spec.toMany {
					list := make([]identifier, 0, len(ids))
					for _, id := range ids {
						list = append(list, identifier{Type: spec.typ, ID: id})
					}
					rel["data"] = list
				} else if len(ids) > 0 {
					rel["data"] = identifier{Type: spec.typ, ID: ids[0]}
				} else {
					rel["data"] = nil
				}
			}
			rels[name] = rel
		}
		obj["relationships"] = rels
	}
	return obj
}

// readInputs reads a POST/PATCH/DELETE body's data after the media type rules.
// It reports whether the body was bulk (an array).
func readInputs(r *http.Request, rs *resource, needBody bool) ([]*input, bool, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != MediaType {
		if mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
			return nil, false, errorf(http.StatusMethodNotAllowed, "form parameters are not accepted: send %s", MediaType)
		}
		return nil, false, errorf(http.StatusUnsupportedMediaType, "Content-Type must be %s", MediaType)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, false, errorf(http.StatusBadRequest, "could not read the request body")
	}
	if len(body) > maxBody {
		return nil, false, errorf(http.StatusRequestEntityTooLarge, "request body is larger than %d bytes", maxBody)
	}
	if len(bytes.TrimSpace(body)) == 0 && !needBody {
		return nil, false, nil
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, false, errorf(http.StatusForbidden, "Data object must be provided: %v", err)
	}
	data := bytes.TrimSpace(doc.Data)
	if len(data) == 0 || string(data) == "null" {
		return nil, false, errorf(http.StatusForbidden, "Data object must be provided")
	}
	bulk := data[0] == '['
	ext := params["ext"] == "bulk"
	switch {
	case bulk && !ext:
		return nil, false, errorf(http.StatusNotAcceptable, "JSONAPI Bulk Extension not set in headers")
	case !bulk && ext:
		return nil, false, errorf(http.StatusNotAcceptable, "JSONAPI Bulk Extension was set in headers")
	}
	var ins []*input
	if bulk {
		err = json.Unmarshal(data, &ins)
	} else {
		var one input
		err = json.Unmarshal(data, &one)
		ins = []*input{&one}
	}
	if err != nil {
		return nil, false, errorf(http.StatusForbidden, "Malformed data: %v", err)
	}
	if len(ins) == 0 {
		return nil, false, errorf(http.StatusForbidden, "Data object must be provided")
	}
	for _, in := range ins {
		if in == nil {
			return nil, false, errorf(http.StatusForbidden, "Data object must be provided")
		}
		if in.Type != rs.typ {
			return nil, false, errorf(http.StatusConflict, "Resource type %q does not match the endpoint's %q", in.Type, rs.typ)
		}
	}
	return ins, bulk, nil
}

// checkInput rejects attributes and relationships a resource does not take.
func checkInput(in *input, writable []string, rels map[string]bool) error {
	var bad []string
	for name := range in.Attributes {
		if !slices.Contains(writable, name) {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return errorf(http.StatusForbidden, "Invalid attribute(s): %s", strings.Join(bad, ", "))
	}
	for name := range in.Relationships {
		if !rels[name] {
			return errorf(http.StatusNotFound, "Unknown or read-only relationship: %q", name)
		}
	}
	return nil
}

func (s *server) post(w http.ResponseWriter, r *http.Request, rs *resource) error {
	ins, bulk, err := readInputs(r, rs, true)
	if err != nil {
		return err
	}
	ids, err := rs.create(r.Context(), ins)
	if err != nil {
		return err
	}
	var recs []*record
	for _, id := range ids {
		rec, err := rs.fetch(r.Context(), id)
		if err != nil {
			return err
		}
		recs = append(recs, rec)
	}
	doc, err := s.document(r, rs, recs, &query{})
	if err != nil {
		return err
	}
	if !bulk {
		doc["data"] = doc["data"].([]any)[0]
	}
	w.Header().Set("Location", fmt.Sprintf("%s/%s/%s", baseURL(r), rs.path, strings.Join(ids, ",")))
	writeDoc(w, http.StatusCreated, doc)
	return nil
}

func (s *server) patch(w http.ResponseWriter, r *http.Request, rs *resource, pathID string) error {
	ins, bulk, err := readInputs(r, rs, true)
	if err != nil {
		return err
	}
	if pathID != "" && (bulk || ins[0].ID != pathID) {
		return errorf(http.StatusConflict, "Id path/data mismatch")
	}
	if pathID == "" && !bulk {
		return errorf(http.StatusNotFound, "PATCH of one record goes to /%s/<id>", rs.path)
	}
	var missing []string
	for _, in := range ins {
		if in.ID == "" {
			return errorf(http.StatusForbidden, "Data object must carry an id")
		}
		if _, err := rs.fetch(r.Context(), in.ID); errors.Is(err, store.ErrNotFound) {
			missing = append(missing, in.ID)
		} else if err != nil {
			return err
		}
	}
	if err := notFoundIDs(rs, missing); err != nil {
		return err
	}
	if err := rs.update(r.Context(), ins); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func notFoundIDs(rs *resource, ids []string) error {
	switch len(ids) {
	case 0:
		return nil
	case 1:
		return rs.notFound(ids[0])
	}
	return errorf(http.StatusNotFound, "could not find %s records, ids: '%s'", rs.title, strings.Join(ids, "', '"))
}

func (s *server) deleteBulk(w http.ResponseWriter, r *http.Request, rs *resource) error {
	ins, bulk, err := readInputs(r, rs, true)
	if err != nil {
		return err
	}
	if !bulk {
		return errorf(http.StatusNotAcceptable, "JSONAPI Bulk Extension not set in headers")
	}
	ids := make([]string, 0, len(ins))
	for _, in := range ins {
		if _, err := rs.fetch(r.Context(), in.ID); errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, "Could not find all records to delete")
		} else if err != nil {
			return err
		}
		if !slices.Contains(ids, in.ID) {
			ids = append(ids, in.ID)
		}
	}
	if err := rs.remove(r.Context(), ids); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
