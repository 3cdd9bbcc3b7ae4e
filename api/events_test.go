package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/api"
	"github.com/x/flapjack/store"
	"github.com/x/flapjack/store/memory"
)

// post sends body to h and returns the response.
func post(t testing.TB, h http.Handler, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// queued takes everything waiting on q.
func queued(t testing.TB, q store.Queue) []string {
	t.Helper()
	items, err := q.Reserve(context.Background(), 1<<20, false)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = string(it.Payload)
	}
	return out
}

func decodeReply(t testing.TB, rec *httptest.ResponseRecorder) api.EventsReply {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	var r api.EventsReply
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("reply %q is not an EventsReply: %v", rec.Body.String(), err)
	}
	return r
}

func decodeError(t testing.TB, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var r struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil || r.Error == "" {
		t.Fatalf("reply %q is not {\"error\": …}: %v", rec.Body.String(), err)
	}
	return r.Error
}

func TestSingleEvent(t *testing.T) {
	st := memory.New()
	defer st.Close()
	q := st.Queue("events")
	h := api.EventsHandler(q, nil)

	rec := post(t, h, ` {"entity":"web-01","check":"HTTP","state":"CRITICAL","summary":"  502 Bad Gateway ","time":1454900000,"initial_failure_delay":0} `)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", rec.Code, rec.Body)
	}
	if got, want := rec.Body.String(), "{\"accepted\":1,\"rejected\":[]}\n"; got != want {
		t.Errorf("reply %q, want %q", got, want)
	}
	// The queue holds the normalised event: state lower-cased, summary trimmed,
	// and the explicit 0 delay kept.
	want := []string{`{"state":"critical","check":"HTTP","entity":"web-01","time":1454900000,"initial_failure_delay":0,"summary":"502 Bad Gateway"}`}
	if got := queued(t, q); !reflect.DeepEqual(got, want) {
		t.Errorf("queued %q, want %q", got, want)
	}
}

func TestArrayOfEvents(t *testing.T) {
	st := memory.New()
	defer st.Close()
	q := st.Queue("events")
	var logs bytes.Buffer
	h := api.EventsHandler(q, slog.New(slog.NewTextHandler(&logs, nil)))

	rec := post(t, h, `[
		{"check":"a:ping","state":"ok"},
		{"check":"b:ping"},
		{"check":"c:ping","state":"warning","summary":"slow"},
		{"state":"bogus","check":"d:ping","time":"yesterday","initial_failure_delay":"soon"},
		"not an event",
		{"check":"e:ping","state":"critical","colour":"red"}
	]`)
	if rec.Code != http.StatusMultiStatus {
		t.Fatalf("status %d, want 207; body %s", rec.Code, rec.Body)
	}
	reply := decodeReply(t, rec)
	if reply.Accepted != 2 {
		t.Errorf("accepted %d, want 2", reply.Accepted)
	}
	wantIndex := []int{1, 3, 4, 5}
	if len(reply.Rejected) != len(wantIndex) {
		t.Fatalf("rejected %+v, want events %v", reply.Rejected, wantIndex)
	}
	for i, r := range reply.Rejected {
		if r.Index != wantIndex[i] || len(r.Errors) == 0 {
			t.Errorf("rejected[%d] = %+v, want index %d with its errors", i, r, wantIndex[i])
		}
	}
	if got, want := reply.Rejected[0].Errors, []string{"state: missing"}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors of event 1: %q, want %q", got, want)
	}
	// Every problem of one event is listed, each naming its field.
	if errs := strings.Join(reply.Rejected[1].Errors, "\n"); !strings.Contains(errs, "state: ") ||
		!strings.Contains(errs, "time: ") || !strings.Contains(errs, "initial_failure_delay: ") {
		t.Errorf("errors of event 3: %q, want problems with state, time and initial_failure_delay", reply.Rejected[1].Errors)
	}
	if errs := reply.Rejected[2].Errors; len(errs) != 1 || !strings.Contains(errs[0], "must be a JSON object") {
		t.Errorf("errors of event 4: %q, want one saying an event is a JSON object", errs)
	}
	if got, want := reply.Rejected[3].Errors, []string{"colour: unknown key"}; !reflect.DeepEqual(got, want) {
		t.Errorf("errors of event 5: %q, want %q", got, want)
	}

	want := []string{`{"state":"ok","check":"a:ping"}`, `{"state":"warning","check":"c:ping","summary":"slow"}`}
	if got := queued(t, q); !reflect.DeepEqual(got, want) {
		t.Errorf("queued %q, want %q", got, want)
	}
	if !strings.Contains(logs.String(), "invalid events received") {
		t.Errorf("log %q does not mention the invalid events", logs.String())
	}
}

func TestUnprocessable(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		rejected   []api.RejectedEvent
	}{
		{"invalid event", `{"check":"x"}`, []api.RejectedEvent{{Index: 0, Errors: []string{"state: missing"}}}},
		{"all invalid", `[{"state":"ok"},{"check":"x"}]`, []api.RejectedEvent{
			{Index: 0, Errors: []string{"check: missing"}},
			{Index: 1, Errors: []string{"state: missing"}},
		}},
		{"JSON number", `42`, []api.RejectedEvent{{Index: 0, Errors: []string{"invalid event: event must be a JSON object, got number"}}}},
		{"JSON string", `"critical"`, []api.RejectedEvent{{Index: 0, Errors: []string{"invalid event: event must be a JSON object, got string"}}}},
		{"JSON null", `null`, []api.RejectedEvent{{Index: 0, Errors: []string{"invalid event: event must be a JSON object, got null"}}}},
		{"empty array", `[]`, []api.RejectedEvent{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			q := st.Queue("events")
			rec := post(t, api.EventsHandler(q, nil), tc.body)
			if rec.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422; body %s", rec.Code, rec.Body)
			}
			reply := decodeReply(t, rec)
			if reply.Accepted != 0 || !reflect.DeepEqual(reply.Rejected, tc.rejected) {
				t.Errorf("reply %+v, want accepted 0, rejected %+v", reply, tc.rejected)
			}
			if got := queued(t, q); len(got) != 0 {
				t.Errorf("queued %q, want nothing", got)
			}
		})
	}
}

func TestBadRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body, msg string
	}{
		{"empty body", ``, "empty body"},
		{"blank body", " \n\t", "empty body"},
		{"not JSON", `state=critical&check=x`, "not valid JSON"},
		{"truncated", `{"check":"x","state":"ok"`, "not valid JSON"},
		{"two values", `{"check":"x","state":"ok"} {"check":"y","state":"ok"}`, "not valid JSON"},
		{"trailing comma", `[{"check":"x","state":"ok"},]`, "not valid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memory.New()
			defer st.Close()
			q := st.Queue("events")
			rec := post(t, api.EventsHandler(q, nil), tc.body)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", rec.Code, rec.Body)
			}
			if msg := decodeError(t, rec); !strings.Contains(msg, tc.msg) || !strings.Contains(msg, "send one JSON event or an array of events") {
				t.Errorf("error %q, want it to say %q and what to send", msg, tc.msg)
			}
			if got := queued(t, q); len(got) != 0 {
				t.Errorf("queued %q, want nothing", got)
			}
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	st := memory.New()
	defer st.Close()
	h := api.EventsHandler(st.Queue("events"), nil)
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(m, "/events", strings.NewReader(`{"check":"x","state":"ok"}`)))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
			t.Errorf("%s: status %d, Allow %q; want 405 and Allow: POST", m, rec.Code, rec.Header().Get("Allow"))
		}
		if m != http.MethodHead {
			if msg := decodeError(t, rec); !strings.Contains(msg, "POST") {
				t.Errorf("%s: error %q, want it to say to use POST", m, msg)
			}
		}
	}
	if n, _ := st.Queue("events").Len(context.Background()); n != 0 {
		t.Errorf("%d events queued by other methods, want 0", n)
	}
}

func TestBodyTooLarge(t *testing.T) {
	st := memory.New()
	defer st.Close()
	q := st.Queue("events")
	h := api.EventsHandler(q, nil)

	// A valid array just over the limit: nothing of it may be queued.
	one := `{"check":"x","state":"ok"},`
	var b strings.Builder
	b.WriteByte('[')
	for b.Len() < api.MaxEventsBody {
		b.WriteString(one)
	}
	b.WriteString(`{"check":"x","state":"ok"}]`)
	rec := post(t, h, b.String())
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
	if msg := decodeError(t, rec); !strings.Contains(msg, "larger than") {
		t.Errorf("error %q, want it to give the limit", msg)
	}
	if got := queued(t, q); len(got) != 0 {
		t.Errorf("%d events queued from a body over the limit, want 0", len(got))
	}

	// A body of exactly the limit is read.
	exact := `{"check":"x","state":"ok","summary":"` + strings.Repeat("s", api.MaxEventsBody-len(`{"check":"x","state":"ok","summary":""}`)) + `"}`
	if len(exact) != api.MaxEventsBody {
		t.Fatalf("test body is %d bytes, want %d", len(exact), api.MaxEventsBody)
	}
	if rec := post(t, h, exact); rec.Code != http.StatusAccepted {
		t.Errorf("body of exactly MaxEventsBody: status %d, want 202", rec.Code)
	}
}

// failingQueue refuses every push.
type failingQueue struct {
	store.Queue
	mu     sync.Mutex
	pushes int
}

func (q *failingQueue) Push(ctx context.Context, payloads ...[]byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pushes++
	return errors.New("connection refused")
}

func TestQueueFailure(t *testing.T) {
	var logs bytes.Buffer
	q := &failingQueue{}
	h := api.EventsHandler(q, slog.New(slog.NewTextHandler(&logs, nil)))
	rec := post(t, h, `[{"check":"a","state":"ok"},{"check":"b"},{"check":"c","state":"critical"}]`)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503; body %s", rec.Code, rec.Body)
	}
	// The reply is only the error: no count of accepted or rejected events that
	// would suggest part of the request was taken.
	raw := rec.Body.String()
	if msg := decodeError(t, rec); !strings.Contains(msg, "try again") {
		t.Errorf("error %q, want it to ask to try again", msg)
	}
	if strings.Contains(raw, "accepted") || strings.Contains(raw, "rejected") {
		t.Errorf("reply %q reports a partial outcome", raw)
	}
	if q.pushes != 1 {
		t.Errorf("%d pushes, want all valid events in one", q.pushes)
	}
	if !strings.Contains(logs.String(), "events not queued") || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("log %q does not record the failure", logs.String())
	}

	// A request without a valid event does not touch the queue.
	if rec := post(t, h, `{"check":"x"}`); rec.Code != http.StatusUnprocessableEntity {
		t.Errorf("invalid event with a failing queue: status %d, want 422", rec.Code)
	}
	if q.pushes != 1 {
		t.Errorf("%d pushes after an invalid event, want still 1", q.pushes)
	}
}

// FuzzEventsHandler checks that no body makes the handler panic, that it always
// answers with a documented status and a JSON body, and that every event of an
// array is either accepted (and queued) or rejected.
func FuzzEventsHandler(f *testing.F) {
	for _, seed := range []string{
		`{"check":"x","state":"ok"}`, `[{"check":"x","state":"ok"},{"check":"y"}]`, `[]`, ``, `42`, `null`,
		`[1,"a",null,{}]`, `{"check":"x","state":"ok","tags":["a"],"duration":60}`, `[[[]]]`, `{`,
		`{"entity":"e","check":"c","state":"test_notifications critical","summary":"s"}`,
		`[{"check":"x","state":"acknowledgement","duration":3600,"acknowledgement_id":"abc"}]`,
	} {
		f.Add([]byte(seed))
	}
	st := memory.New()
	defer st.Close()
	q := st.Queue("events")
	h := api.EventsHandler(q, nil)
	documented := map[int]bool{
		http.StatusAccepted: true, http.StatusMultiStatus: true, http.StatusBadRequest: true,
		http.StatusUnprocessableEntity: true,
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := post(t, h, string(body))
		if !documented[rec.Code] {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		payloads := queued(t, q)
		if rec.Code == http.StatusBadRequest {
			decodeError(t, rec)
			if len(payloads) != 0 {
				t.Fatalf("%d events queued for a bad request %q", len(payloads), body)
			}
			return
		}
		reply := decodeReply(t, rec)
		if reply.Accepted != len(payloads) {
			t.Fatalf("accepted %d, queued %d for %q", reply.Accepted, len(payloads), body)
		}
		n := 1
		if trimmed := bytes.TrimSpace(body); trimmed[0] == '[' {
			var events []json.RawMessage
			if err := json.Unmarshal(trimmed, &events); err != nil {
				t.Fatalf("%q answered %d but is not a JSON array: %v", body, rec.Code, err)
			}
			n = len(events)
		}
		if reply.Accepted+len(reply.Rejected) != n {
			t.Fatalf("accepted %d + rejected %d for %d events in %q", reply.Accepted, len(reply.Rejected), n, body)
		}
		switch {
		case reply.Accepted == 0 && rec.Code != http.StatusUnprocessableEntity,
			reply.Accepted > 0 && len(reply.Rejected) > 0 && rec.Code != http.StatusMultiStatus,
			reply.Accepted > 0 && len(reply.Rejected) == 0 && rec.Code != http.StatusAccepted:
			t.Fatalf("status %d for %d accepted and %d rejected", rec.Code, reply.Accepted, len(reply.Rejected))
		}
		for _, r := range reply.Rejected {
			if r.Index < 0 || r.Index >= n || len(r.Errors) == 0 {
				t.Fatalf("rejected %+v of %d events", r, n)
			}
		}
		// What is queued is the normalised event, which reads back as itself.
		for _, p := range payloads {
			ev, err := flapjack.ParseEvent([]byte(p))
			if err != nil {
				t.Fatalf("queued %q does not parse: %v", p, err)
			}
			if again, _ := json.Marshal(ev); string(again) != p {
				t.Fatalf("queued %q reads back as %q", p, again)
			}
		}
	})
}
