package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// docBase is where the tests' requests go; the description names it as its
// server.
const docBase = "http://flapjack.example:3081"

var docNow = time.Date(2030, 1, 1, 10, 0, 0, 0, time.UTC)

// docFixture is a server over a memory store that holds a record of every type.
type docFixture struct {
	t   *testing.T
	s   *server
	h   http.Handler
	st  *memory.Store
	ids map[string]string // the id of a record, by type
}

func newDocFixture(t *testing.T) *docFixture {
	t.Helper()
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	s, h := newHandler(st, Options{Clock: flapjack.ClockFunc(func() time.Time { return docNow })})
	f := &docFixture{t: t, s: s, h: h, st: st, ids: map[string]string{"tag": "db", "statistic": store.GlobalStatistic}}
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	contact := flapjack.Contact{ID: "0c7a1a6e-2c1e-4f4b-9c43-6b1f7e2a9d10", Name: "Ada Lovelace",
		Timezone: "Europe/London", Tags: []string{"db"}}
	medium := flapjack.Medium{ID: "5b0f3c2d-8e41-4a6f-b7d2-1c9e0a4f6b38", ContactID: contact.ID, Transport: "email",
		Address: "ada@example.com", Interval: 900, RollupThreshold: 3}
	pager := flapjack.Medium{ID: "6c1e4d3e-9f52-4b70-88e3-2d0f1b5a7c49", ContactID: contact.ID, Transport: "pagerduty",
		Address: "routing-key", PagerdutySubdomain: "example", PagerdutyToken: "token"}
	rule := flapjack.Rule{ID: "7d2f5e4f-0a63-4c81-99f4-3e1a2c6b8d5a", ContactID: contact.ID, Enabled: true,
		Strategy: flapjack.AllTags, Tags: []string{"db"}, MediaIDs: []string{medium.ID},
		Conditions: []flapjack.Condition{flapjack.Critical}}
	must(st.PutContact(ctx, contact))
	must(st.PutMedium(ctx, medium))
	must(st.PutMedium(ctx, pager))
	must(st.PutRule(ctx, rule))
	must(st.PutRule(ctx, flapjack.Rule{ID: "8e3a6f5a-1b74-4d92-8a05-4f2b3d7c9e6b", ContactID: contact.ID,
		Blackhole: true, Strategy: flapjack.Global}))
	current := flapjack.State{CreatedAt: docNow.Add(-time.Hour), UpdatedAt: docNow.Add(-time.Minute),
		Condition: flapjack.Critical, Summary: "HTTP 502", Details: "Bad gateway",
		Perfdata: []flapjack.PerfDatum{{Key: "time", Value: "0.2s"}}}
	scheduled := flapjack.Maintenance{ID: "9f4b7a6b-2c85-4ea3-9b16-5a3c4e8d0f7c", Start: docNow.Add(24 * time.Hour),
		End: docNow.Add(26 * time.Hour), Summary: "Upgrade"}
	unscheduled := flapjack.Maintenance{ID: "a05c8b7c-3d96-4fb4-8c27-6b4d5f9e1a8d", Start: docNow.Add(-10 * time.Minute),
		End: docNow.Add(time.Hour)}
	check, err := st.UpdateCheck(ctx, "web-01:HTTP", true, func(u *store.CheckUpdate) error {
		c := &u.Check
		c.Enabled, c.Tags, c.Condition, c.Failing = true, []string{"db"}, flapjack.Critical, true
		delay := int64(30)
		c.InitialFailureDelay = &delay
		c.CurrentState = &current
		c.LatestNotifications = []flapjack.State{current, {CreatedAt: docNow.Add(-10 * time.Minute),
			UpdatedAt: docNow.Add(-10 * time.Minute), Action: flapjack.Acknowledgement, Summary: "on it"}}
		c.ScheduledMaintenances = []flapjack.Maintenance{scheduled}
		c.UnscheduledMaintenances = []flapjack.Maintenance{unscheduled}
		u.History = []flapjack.State{{CreatedAt: docNow.Add(-2 * time.Hour), UpdatedAt: docNow.Add(-2 * time.Hour),
			Condition: flapjack.OK}, current}
		return nil
	})
	must(err)
	_, err = st.UpdateCheck(ctx, "db-01:MySQL", true, func(u *store.CheckUpdate) error { return nil })
	must(err)
	must(st.AddStatistics(ctx, store.GlobalStatistic, docNow, flapjack.Statistics{AllEvents: 3, OKEvents: 1, FailureEvents: 2}))
	must(st.AddStatistics(ctx, "web-01:4242", docNow, flapjack.Statistics{AllEvents: 3, OKEvents: 1, FailureEvents: 2}))
	processed := flapjack.DecisionRecord{CheckID: check.ID, CheckName: check.Name, Source: flapjack.DecidedByProcessor,
		Time: docNow.Add(-time.Hour), Last: docNow.Add(-time.Hour), Count: 1, Event: "critical", Summary: "HTTP 502",
		Outcome: flapjack.OutcomeNotification, NotificationID: "n-1"}
	processed.Trace.Add("filter:delays", "pass", "failing for 60s")
	notified := flapjack.DecisionRecord{CheckID: check.ID, CheckName: check.Name, Source: flapjack.DecidedByNotifier,
		Time: docNow.Add(-time.Hour), Last: docNow.Add(-time.Hour), Count: 1, Event: "problem",
		Outcome: flapjack.OutcomeAlerted, NotificationID: "n-1", Alerts: []flapjack.DecisionAlert{{ContactID: contact.ID,
			ContactName: contact.Name, MediumID: medium.ID, Transport: medium.Transport, Type: flapjack.TypeProblem}}}
	notified.Trace.Add("medium:"+medium.ID, "send", "")
	must(st.AppendDecisions(ctx, processed, notified))
	must(st.Queue("events").Push(ctx, []byte(`{"check":"web-01:HTTP","state":"ok"}`)))
	for typ, id := range map[string]string{"contact": contact.ID, "medium": medium.ID, "rule": rule.ID, "check": check.ID,
		"scheduled_maintenance": scheduled.ID, "unscheduled_maintenance": unscheduled.ID,
		"state": stateID(check.ID, current.CreatedAt)} {
		f.ids[typ] = id
	}
	return f
}

// docRequest is a request to the fixture's server, and its answer.
type docRequest struct {
	method, target, ctype, body string
	header                      http.Header
}

// do sends r to h and returns the answer.
func (r docRequest) do(h http.Handler) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r.build())
	return rec
}

func (r docRequest) build() *http.Request {
	req := httptest.NewRequest(r.method, docBase+r.target, strings.NewReader(r.body))
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	return req
}

// openAPIDoc is the served OpenAPI document, loaded and validated.
type openAPIDoc struct {
	doc    *openapi3.T
	router routers.Router
}

func loadDescription(t *testing.T, h http.Handler, target string) (*openAPIDoc, []byte) {
	t.Helper()
	rec := docRequest{method: "GET", target: target}.do(h)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("GET %s: not an OpenAPI document: %v", target, err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("GET %s: invalid OpenAPI document: %v", target, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &openAPIDoc{doc: doc, router: router}, rec.Body.Bytes()
}

// check validates r against the description (it must be valid unless
// invalid is set) and then rec, the answer to it: its status must be
// documented and its body and headers must fit.
func (d *openAPIDoc) check(t *testing.T, r docRequest, rec *httptest.ResponseRecorder, invalid bool) {
	t.Helper()
	req := r.build()
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s %s: not described: %v", r.method, r.target, err)
		return
	}
	ctx := context.Background()
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	switch err := openapi3filter.ValidateRequest(ctx, in); {
	case err != nil && !invalid:
		t.Errorf("%s %s: the request does not fit the description: %v", r.method, r.target, err)
	case err == nil && invalid:
		t.Errorf("%s %s: the description accepts the invalid request", r.method, r.target)
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Body:    io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		t.Errorf("%s %s: the answer %d %s does not fit the description: %v", r.method, r.target, rec.Code,
			abbreviate(rec.Body.String(), 300), err)
	}
}

func abbreviate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func TestDocIsValidOpenAPI(t *testing.T) {
	f := newDocFixture(t)
	for _, tc := range []struct {
		target, ctype string
	}{
		{"/doc", "application/json; charset=utf-8"},
		{"/doc?format=json", "application/json; charset=utf-8"},
		{"/doc?format=yaml", "application/yaml; charset=utf-8"},
	} {
		t.Run(tc.target, func(t *testing.T) {
			d, _ := loadDescription(t, f.h, tc.target)
			if d.doc.OpenAPI != openAPIVersion || !d.doc.IsOpenAPI31OrLater() {
				t.Errorf("openapi %q", d.doc.OpenAPI)
			}
			if got := (docRequest{method: "GET", target: tc.target}).do(f.h).Header().Get("Content-Type"); got != tc.ctype {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			if n := d.doc.Paths.Len(); n < 50 {
				t.Errorf("only %d paths", n)
			}
			if s := d.doc.Servers; len(s) != 1 || s[0].URL != docBase {
				t.Errorf("servers %v", s)
			}
			for path, item := range d.doc.Paths.Map() {
				for method, op := range item.Operations() {
					if op.Summary == "" || op.Description == "" {
						t.Errorf("%s %s has no summary or description", method, path)
					}
					for _, p := range slices.Concat(item.Parameters, op.Parameters) {
						if p.Value.Description == "" {
							t.Errorf("%s %s: parameter %s has no description", method, path, p.Value.Name)
						}
					}
				}
			}
		})
	}
	fromJSON, _ := loadDescription(t, f.h, "/doc")
	fromYAML, _ := loadDescription(t, f.h, "/doc?format=yaml")
	a, _ := json.Marshal(fromJSON.doc)
	b, _ := json.Marshal(fromYAML.doc)
	if !bytes.Equal(a, b) {
		t.Error("the YAML description differs from the JSON one")
	}
	rec := docRequest{method: "GET", target: "/doc?format=xml"}.do(f.h)
	if rec.Code != http.StatusForbidden {
		t.Errorf("format=xml: %d", rec.Code)
	}
}

// TestDocValidatorRejectsMistakes makes sure the validator the other tests
// rely on does find mistakes in a description.
func TestDocValidatorRejectsMistakes(t *testing.T) {
	f := newDocFixture(t)
	_, body := loadDescription(t, f.h, "/doc")
	for _, tc := range []struct {
		name   string
		mutate func(doc map[string]any)
	}{
		{"unknown type", func(doc map[string]any) {
			jsonPath(doc, "components", "schemas", "CheckAttributes", "properties", "name")["type"] = "text"
		}},
		{"dangling reference", func(doc map[string]any) {
			delete(jsonPath(doc, "components", "schemas"), "Errors")
		}},
		{"undeclared path parameter", func(doc map[string]any) {
			delete(jsonPath(doc, "paths", "/checks/{id}"), "parameters")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil {
				t.Fatal(err)
			}
			tc.mutate(doc)
			b, _ := json.Marshal(doc)
			loader := openapi3.NewLoader()
			d, err := loader.LoadFromData(b)
			if err == nil {
				err = d.Validate(loader.Context)
			}
			if err == nil {
				t.Error("accepted")
			}
		})
	}
}

func jsonPath(doc map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		doc = doc[k].(map[string]any)
	}
	return doc
}

// TestDocDescribesEveryRoute walks the routes of the mux: each must be
// described, with its method, and every description must be of a route.
func TestDocDescribesEveryRoute(t *testing.T) {
	f := newDocFixture(t)
	d, _ := loadDescription(t, f.h, "/doc")
	has := func(method, path string) {
		t.Helper()
		item := d.doc.Paths.Value(path)
		if item == nil {
			t.Errorf("%s is not described", path)
			return
		}
		if method == "" {
			if len(item.Operations()) < 2 { // OPTIONS and at least one other
				t.Errorf("%s has no operation", path)
			}
			return
		}
		if item.GetOperation(method) == nil {
			t.Errorf("%s %s is not described", method, path)
		}
	}
	resources := resourcesByPath(f.s)
	for _, pattern := range f.s.routes {
		describe, ok := routeDocs[pattern]
		if !ok {
			t.Errorf("route %q is not described: give it an entry in routeDocs", pattern)
			continue
		}
		method, path := splitPattern(pattern)
		switch {
		case describe == nil:
		case pattern == "/{path}":
			for _, rs := range resources {
				has("GET", "/"+rs.path)
				for m, served := range map[string]bool{"POST": rs.create != nil, "PATCH": rs.update != nil, "DELETE": rs.remove != nil} {
					if served {
						has(m, "/"+rs.path)
					}
				}
			}
		case pattern == "/{path}/{id}":
			for _, rs := range resources {
				has("GET", "/"+rs.path+"/{id}")
				for m, served := range map[string]bool{"PATCH": rs.update != nil, "DELETE": rs.remove != nil} {
					if served {
						has(m, "/"+rs.path+"/{id}")
					}
				}
			}
		case pattern == "/{path}/{id}/{rel}":
			for _, rs := range resources {
				for rel := range rs.rels {
					has("GET", "/"+rs.path+"/{id}/"+rel)
				}
			}
		case pattern == "/{path}/{id}/relationships/{rel}":
			for _, rs := range resources {
				for rel, spec := range rs.rels {
					path := "/" + rs.path + "/{id}/relationships/" + rel
					has("GET", path)
					if rs.writable[rel] && spec.toMany {
						has("POST", path)
						has("PATCH", path)
						has("DELETE", path)
					}
				}
			}
		default:
			has(method, path)
		}
	}
	for pattern := range routeDocs {
		if !slices.Contains(f.s.routes, pattern) {
			t.Errorf("routeDocs describes %q, which the mux does not serve", pattern)
		}
	}
}

// TestDocDescribesEveryAttribute checks the documentation tables against the
// resources the server serves.
func TestDocDescribesEveryAttribute(t *testing.T) {
	f := newDocFixture(t)
	for typ, rs := range f.s.resources {
		for _, a := range rs.attrs {
			d, ok := attrDocs[typ][a.name]
			switch {
			case !ok:
				t.Errorf("attribute %s.%s is not described: give it an entry in attrDocs", typ, a.name)
			case d.desc == "":
				t.Errorf("attribute %s.%s has no description", typ, a.name)
			case a.kind == kOther && d.schema["type"] == nil:
				t.Errorf("attribute %s.%s needs a schema with its type", typ, a.name)
			case d.required && !d.create:
				t.Errorf("attribute %s.%s is required but not writable on create", typ, a.name)
			}
		}
		for name := range attrDocs[typ] {
			if _, ok := rs.attr(name); !ok {
				t.Errorf("attrDocs describes %s.%s, which %s records do not have", typ, name, typ)
			}
		}
	}
	for typ := range attrDocs {
		if f.s.resources[typ] == nil {
			t.Errorf("attrDocs describes type %s, which the server does not serve", typ)
		}
	}
	for typ, b := range bodyDocs {
		rs := f.s.resources[typ]
		switch {
		case rs == nil:
			t.Errorf("bodyDocs describes type %s, which the server does not serve", typ)
		case rs.create == nil && (b.id != nil || len(b.create) > 0):
			t.Errorf("bodyDocs describes the create of %s, which cannot be created", typ)
		case rs.update == nil && len(b.update) > 0:
			t.Errorf("bodyDocs describes the update of %s, which cannot be updated", typ)
		}
	}
}

// TestDocWritability sends every attribute and relationship of every
// resource in create and update bodies, and checks that the server refuses
// exactly those the description does not let them carry.
func TestDocWritability(t *testing.T) {
	for _, rs := range resourcesByPath(newDocFixture(t).s) {
		body := bodyDocs[rs.typ]
		rels := slices.Sorted(maps.Keys(rs.rels))
		for _, list := range [][]bodyRel{body.create, body.update} {
			for _, r := range list {
				if !slices.Contains(rels, r.name) {
					rels = append(rels, r.name)
				}
			}
		}
		rels = append(rels, "not_a_relationship")
		attrs := []string{"not_an_attribute"}
		for _, a := range rs.attrs {
			attrs = append(attrs, a.name)
		}
		for _, create := range []bool{true, false} {
			if create && rs.create == nil || !create && rs.update == nil {
				continue
			}
			list, method := body.update, "PATCH"
			if create {
				list, method = body.create, "POST"
			}
			// send sends a body with the given attributes or relationships to
			// a fresh server, and returns the status and the error details.
			send := func(key string, value map[string]any) (int, string) {
				f := newDocFixture(t)
				r := docRequest{method: method, target: "/" + rs.path, ctype: MediaType}
				obj := map[string]any{"type": rs.typ, key: value}
				if !create {
					r.target += "/" + f.ids[rs.typ]
					obj["id"] = f.ids[rs.typ]
				}
				b, _ := json.Marshal(map[string]any{"data": obj})
				r.body = string(b)
				rec := r.do(f.h)
				var e struct {
					Errors []struct{ Detail string }
				}
				json.Unmarshal(rec.Body.Bytes(), &e)
				var details []string
				for _, x := range e.Errors {
					details = append(details, x.Detail)
				}
				return rec.Code, strings.Join(details, "; ")
			}
			for _, name := range attrs {
				d, described := attrDocs[rs.typ][name]
				want := described && (create && d.create || !create && d.update)
				status, detail := send("attributes", map[string]any{name: nil})
				refused := status == http.StatusForbidden && strings.Contains(detail, "Invalid attribute(s): "+name)
				if refused == want {
					t.Errorf("%s /%s with attribute %s: %d %s; described as writable: %v", method, rs.path, name,
						status, detail, want)
				}
			}
			for _, name := range rels {
				want := slices.ContainsFunc(list, func(b bodyRel) bool { return b.name == name })
				status, detail := send("relationships", map[string]any{name: map[string]any{"data": nil}})
				refused := status == http.StatusNotFound && strings.Contains(detail, "Unknown or read-only relationship")
				if refused == want {
					t.Errorf("%s /%s with relationship %s: %d %s; described as writable: %v", method, rs.path, name,
						status, detail, want)
				}
			}
		}
	}
}

// sample makes a valid value of the schema s for a request to f: its const,
// example or first enum value, or the least value of its type; objects get
// their required properties and, with examples, those with examples too.
// Resource identifiers name a record of f.
func (f *docFixture) sample(ref *openapi3.SchemaRef, examples bool) any {
	s := ref.Value
	switch {
	case s.Const != nil:
		return s.Const
	case len(s.Examples) > 0:
		return s.Examples[0]
	case len(s.Enum) > 0:
		for _, v := range s.Enum {
			if v != nil {
				return v
			}
		}
	case (s.Type == nil || len(s.Type.Slice()) == 0) && len(s.OneOf) > 0:
		return f.sample(s.OneOf[0], examples)
	}
	var typ string
	if s.Type != nil {
		for _, t := range s.Type.Slice() {
			if t != "null" {
				typ = t
				break
			}
		}
	}
	switch typ {
	case "object":
		required := slices.Clone(s.Required)
		for _, alternatives := range []openapi3.SchemaRefs{s.OneOf, s.AnyOf} {
			if len(alternatives) > 0 {
				required = append(required, alternatives[0].Value.Required...)
			}
		}
		out := map[string]any{}
		for name, p := range s.Properties {
			if slices.Contains(required, name) || examples && len(p.Value.Examples) > 0 {
				out[name] = f.sample(p, examples)
			}
		}
		if typ, ok := out["type"].(string); ok && slices.Contains(required, "id") && f.ids[typ] != "" {
			out["id"] = f.ids[typ]
		}
		return out
	case "array":
		out := []any{}
		for range s.MinItems {
			out = append(out, f.sample(s.Items, examples))
		}
		return out
	case "string":
		switch s.Format {
		case "date-time":
			return docNow.Format(time.RFC3339)
		case "uuid":
			return uuid.NewString()
		}
		return "x"
	case "integer", "number":
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case "boolean":
		return true
	}
	return nil
}

// target fills the id of a path with that of a record of f.
func (f *docFixture) target(path string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if rs := f.s.byPath[first]; rs != nil {
		path = strings.ReplaceAll(path, "{id}", f.ids[rs.typ])
	}
	return path
}

// TestDocOperationsAnswer sends every described operation a request made
// from its description, on a fresh server each time: it must be answered
// with the operation's success status, and request and answer must fit the
// description. Every method the description leaves out of a path must be
// answered 404 or 405.
func TestDocOperationsAnswer(t *testing.T) {
	d, _ := loadDescription(t, newDocFixture(t).h, "/doc")
	for _, path := range d.doc.Paths.InMatchingOrder() {
		item := d.doc.Paths.Value(path)
		for _, method := range []string{"GET", "POST", "PATCH", "DELETE", "OPTIONS"} {
			op := item.GetOperation(method)
			if op == nil {
				f := newDocFixture(t)
				r := docRequest{method: method, target: f.target(path), ctype: MediaType, body: `{"data":{}}`}
				if rec := r.do(f.h); rec.Code != http.StatusNotFound && rec.Code != http.StatusMethodNotAllowed {
					t.Errorf("%s %s is not described but answers %d %s", method, path, rec.Code, abbreviate(rec.Body.String(), 200))
				}
				continue
			}
			var success []int
			for code := range op.Responses.Map() {
				if n, err := json.Number(code).Int64(); err == nil && n >= 200 && n < 300 {
					success = append(success, int(n))
				}
			}
			slices.Sort(success)
			if len(success) == 0 {
				t.Errorf("%s %s has no success answer", method, path)
				continue
			}
			bodies := map[string]*openapi3.MediaType{"": nil}
			if op.RequestBody != nil {
				bodies = op.RequestBody.Value.Content
			}
			for ctype, media := range bodies {
				t.Run(method+" "+path+" "+ctype, func(t *testing.T) {
					f := newDocFixture(t)
					r := docRequest{method: method, target: f.target(path), ctype: ctype}
					if media != nil {
						b, _ := json.Marshal(f.sample(media.Schema, method == "POST"))
						r.body = string(b)
					}
					rec := r.do(f.h)
					if rec.Code != success[0] {
						t.Errorf("%s %s %s: %d %s, want %d", method, r.target, r.body, rec.Code,
							abbreviate(rec.Body.String(), 300), success[0])
					}
					d.check(t, r, rec, false)
				})
			}
		}
	}
}

// TestDocAnswersFit checks real answers of representative requests, good
// and bad, against the description.
func TestDocAnswersFit(t *testing.T) {
	d, _ := loadDescription(t, newDocFixture(t).h, "/doc")
	bulkType := MediaType + "; ext=bulk"
	read, write := "read-token", "write-token"
	bearer := func(token string) http.Header { return http.Header{"Authorization": {"Bearer " + token}} }
	for _, tc := range []struct {
		name    string
		req     docRequest
		status  int
		invalid bool // the request does not fit the description
	}{
		{name: "list checks", req: docRequest{method: "GET",
			target: "/checks?filter=enabled:true&filter=name:/^web/&sort=-name&include=tags,current_state,contacts.media&fields[check]=name,condition,failing&per_page=1"},
			status: 200},
		{name: "list checks, second page", req: docRequest{method: "GET", target: "/checks?page=2&per_page=1"}, status: 200},
		{name: "get a contact with include", req: docRequest{method: "GET", target: "/contacts/{contact}?include=media,rules,tags"}, status: 200},
		{name: "get a check with every include", req: docRequest{method: "GET",
			target: "/checks/{check}?include=alerting_media,contacts,current_scheduled_maintenances,current_state,current_unscheduled_maintenance,latest_notifications,tags"},
			status: 200},
		{name: "list states in a range", req: docRequest{method: "GET", target: "/states?filter=created_at:2029-12-31T00:00:00Z..&include=check"}, status: 200},
		{name: "list media", req: docRequest{method: "GET", target: "/media"}, status: 200},
		{name: "list rules", req: docRequest{method: "GET", target: "/rules?include=contact,media,tags"}, status: 200},
		{name: "list statistics", req: docRequest{method: "GET", target: "/statistics"}, status: 200},
		{name: "list maintenances", req: docRequest{method: "GET", target: "/scheduled_maintenances?include=check"}, status: 200},
		{name: "list acknowledgements", req: docRequest{method: "GET", target: "/unscheduled_maintenances?include=check"}, status: 200},
		{name: "list tags", req: docRequest{method: "GET", target: "/tags?include=checks,contacts,rules"}, status: 200},
		{name: "linkage with include", req: docRequest{method: "GET", target: "/checks/{check}/relationships/tags?include=tags"}, status: 200},
		{name: "filtered linkage", req: docRequest{method: "GET", target: "/checks/{check}/relationships/states?filter=states.condition:critical"}, status: 200},
		{name: "to-one linkage", req: docRequest{method: "GET", target: "/media/{medium}/contact?include=contact"}, status: 200},
		{name: "empty to-one linkage", req: docRequest{method: "GET", target: "/checks/{check}/current_scheduled_maintenances"}, status: 200},
		{name: "related", req: docRequest{method: "GET", target: "/contacts/{contact}/media"}, status: 200},
		{name: "create a medium", req: docRequest{method: "POST", target: "/media", ctype: MediaType,
			body: `{"data":{"type":"medium","attributes":{"transport":"sms","address":"+61400000000","interval":600,"rollup_threshold":null},
			"relationships":{"contact":{"data":{"type":"contact","id":"{contact}"}}}}}`}, status: 201},
		{name: "create a pagerduty medium", req: docRequest{method: "POST", target: "/media", ctype: MediaType,
			body: `{"data":{"type":"medium","attributes":{"transport":"pagerduty","address":"key","pagerduty_subdomain":"example","pagerduty_token":"t","pagerduty_ack_duration":3600},
			"relationships":{"contact":{"data":{"type":"contact","id":"{contact}"}}}}}`}, status: 201},
		{name: "create contacts in bulk", req: docRequest{method: "POST", target: "/contacts", ctype: bulkType,
			body: `{"data":[{"type":"contact","attributes":{"name":"Grace"}},{"type":"contact","attributes":{"name":"Alan","timezone":null}}]}`}, status: 201},
		{name: "update a check", req: docRequest{method: "PATCH", target: "/checks/{check}", ctype: MediaType,
			body: `{"data":{"type":"check","id":"{check}","attributes":{"initial_failure_delay":null},"relationships":{"tags":{"data":[{"type":"tag","id":"web"}]}}}}`}, status: 204},
		{name: "acknowledge a tag", req: docRequest{method: "POST", target: "/acknowledgements", ctype: MediaType,
			body: `{"data":{"type":"acknowledgement","attributes":{"duration":600,"summary":"on it"},"relationships":{"tag":{"data":{"type":"tag","id":"db"}}}}}`}, status: 201},
		{name: "test notifications in bulk", req: docRequest{method: "POST", target: "/test_notifications", ctype: bulkType,
			body: `{"data":[{"type":"test_notification","attributes":{"condition":"warning"},"relationships":{"check":{"data":{"type":"check","id":"{check}"}}}}]}`}, status: 201},
		{name: "metrics", req: docRequest{method: "GET", target: "/metrics", header: http.Header{"Accept": {MediaType}}}, status: 200},
		{name: "some metrics", req: docRequest{method: "GET", target: "/metrics?fields=check_counts,event_queue_length&fields=check_freshness"}, status: 200},
		{name: "decisions", req: docRequest{method: "GET", target: "/checks/{check}/decisions"}, status: 200},
		{name: "one event", req: docRequest{method: "POST", target: "/events", ctype: "application/json",
			body: `{"entity":"web-01","check":"HTTP","state":"critical","summary":"down","time":1454900000,"perfdata":"time=0.2s;;;0"}`}, status: 202},
		{name: "events, some invalid", req: docRequest{method: "POST", target: "/events", ctype: "application/json",
			body: `[{"check":"HTTP","state":"ok"},{"check":"HTTP","state":"sideways"}]`}, status: 207},
		{name: "events, none valid", req: docRequest{method: "POST", target: "/events", ctype: "application/json",
			body: `[{"check":"HTTP"}]`}, status: 422, invalid: true},
		{name: "events, not JSON", req: docRequest{method: "POST", target: "/events", ctype: "application/json",
			body: `{`}, status: 400, invalid: true},
		{name: "the description as YAML", req: docRequest{method: "GET", target: "/doc?format=yaml"}, status: 200},

		{name: "invalid filter", req: docRequest{method: "GET", target: "/checks?filter=colour:red"}, status: 403, invalid: true},
		{name: "sort without a sign", req: docRequest{method: "GET", target: "/checks?sort=name"}, status: 403, invalid: true},
		{name: "failed validation", req: docRequest{method: "POST", target: "/rules", ctype: MediaType,
			body: `{"data":{"type":"rule","attributes":{"enabled":true,"blackhole":false,"strategy":"sometimes"},"relationships":{"contact":{"data":{"type":"contact","id":"{contact}"}}}}}`},
			status: 403, invalid: true},
		{name: "medium without interval", req: docRequest{method: "POST", target: "/media", ctype: MediaType,
			body: `{"data":{"type":"medium","attributes":{"transport":"email","address":"ada@example.com"},
			"relationships":{"contact":{"data":{"type":"contact","id":"{contact}"}}}}}`}, status: 403, invalid: true},
		{name: "check with an id", req: docRequest{method: "POST", target: "/checks", ctype: MediaType,
			body: `{"data":{"type":"check","id":"{missing}","attributes":{"name":"x","enabled":true}}}`}, status: 403, invalid: true},
		{name: "read-only attribute", req: docRequest{method: "PATCH", target: "/checks/{check}", ctype: MediaType,
			body: `{"data":{"type":"check","id":"{check}","attributes":{"failing":false}}}`}, status: 403, invalid: true},
		{name: "missing record", req: docRequest{method: "GET", target: "/checks/{missing}"}, status: 404},
		{name: "missing related record", req: docRequest{method: "POST", target: "/rules", ctype: MediaType,
			body: `{"data":{"type":"rule","attributes":{"enabled":true,"blackhole":false,"strategy":"global"},"relationships":{"contact":{"data":{"type":"contact","id":"{missing}"}}}}}`},
			status: 404},
		{name: "form body", req: docRequest{method: "POST", target: "/contacts", ctype: "application/x-www-form-urlencoded",
			body: `name=Ada`}, status: 405, invalid: true},
		{name: "bulk extension on a single object", req: docRequest{method: "POST", target: "/contacts", ctype: bulkType,
			body: `{"data":{"type":"contact","attributes":{"name":"Ada"}}}`}, status: 406, invalid: true},
		{name: "id in use", req: docRequest{method: "POST", target: "/contacts", ctype: MediaType,
			body: `{"data":{"type":"contact","id":"{contact}","attributes":{"name":"Ada"}}}`}, status: 409},
		{name: "not JSON:API", req: docRequest{method: "POST", target: "/contacts", ctype: "text/plain", body: `{}`},
			status: 415, invalid: true},
		{name: "no link ids", req: docRequest{method: "POST", target: "/checks/{check}/relationships/tags", ctype: MediaType,
			body: `{"data":[]}`}, status: 403, invalid: true},
		{name: "no token", req: docRequest{method: "GET", target: "/checks"}, status: 401},
		{name: "read token", req: docRequest{method: "GET", target: "/checks", header: bearer(read)}, status: 200},
		{name: "read token on a write", req: docRequest{method: "DELETE", target: "/contacts/{contact}", header: bearer(read)}, status: 403},
		{name: "write token", req: docRequest{method: "DELETE", target: "/contacts/{contact}", header: bearer(write)}, status: 204},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newDocFixture(t)
			ids := strings.NewReplacer("{check}", f.ids["check"], "{contact}", f.ids["contact"],
				"{medium}", f.ids["medium"], "{missing}", "11111111-2222-4333-8444-555555555555")
			r := tc.req
			r.target, r.body = ids.Replace(r.target), ids.Replace(r.body)
			h := f.h
			if strings.Contains(tc.name, "token") {
				h = RequireTokens([]string{read}, []string{write}, h)
			}
			rec := r.do(h)
			if rec.Code != tc.status {
				t.Fatalf("%s %s: %d %s, want %d", r.method, r.target, rec.Code, abbreviate(rec.Body.String(), 300), tc.status)
			}
			d.check(t, r, rec, tc.invalid)
		})
	}
}
