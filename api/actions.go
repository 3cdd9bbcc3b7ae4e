package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/internal/uuid"
	"github.com/x/flapjack/store"
)

// statistics are the processor counters; a record's id is its instance name.
func (s *server) statistics() *resource {
	return &resource{
		typ: "statistic", path: "statistics", title: "Statistic",
		attrs: []attrSpec{{"instance_name", kString}, {"created_at", kTime}, {"all_events", kInt},
			{"ok_events", kInt}, {"failure_events", kInt}, {"action_events", kInt}, {"invalid_events", kInt}},
		rangeOK: map[string]bool{"created_at": true},
		list: func(ctx context.Context) ([]*record, error) {
			stats, err := s.st.Statistics(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]*record, len(stats))
			for i, st := range stats {
				out[i] = &record{id: st.Instance, attrs: map[string]any{
					"instance_name": st.Instance, "created_at": st.CreatedAt,
					"all_events": &st.AllEvents, "ok_events": &st.OKEvents, "failure_events": &st.FailureEvents,
					"action_events": &st.ActionEvents, "invalid_events": &st.InvalidEvents,
				}}
			}
			return out, nil
		},
	}
}

var freshnessBuckets = []int64{0, 60, 300, 900, 3600}

// getMetrics answers GET /metrics: the singleton of v2's metrics resource.
// total_keys is there when the store counts its keys (store.KeyCounter).
func (s *server) getMetrics(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	attrs := map[string]any{}
	if kc, ok := s.st.(store.KeyCounter); ok {
		keys, err := kc.KeyCount(ctx)
		if err != nil {
			return err
		}
		attrs["total_keys"] = keys
	}
	n, err := s.st.Queue(s.opts.EventsQueue).Len(ctx)
	if err != nil {
		return err
	}
	attrs["event_queue_length"] = n
	stats, err := s.st.Statistics(ctx)
	if err != nil {
		return err
	}
	var global flapjack.Statistics
	for _, st := range stats {
		if st.Instance == store.GlobalStatistic {
			global = st.Statistics
		}
	}
	attrs["processed_events"] = global
	checks, err := s.st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return err
	}
	now := s.opts.Clock.Now()
	fresh := map[string]int{}
	for _, b := range freshnessBuckets {
		fresh[fmt.Sprint(b)] = 0
	}
	counts := map[string]int{"all": len(checks), "enabled": 0, "failing": 0}
	for _, c := range checks {
		if c.Failing {
			counts["failing"]++
		}
		if !c.Enabled {
			continue
		}
		counts["enabled"]++
		if c.CurrentState == nil {
			continue
		}
		age := int64(now.Sub(c.CurrentState.UpdatedAt) / time.Second)
		bucket := freshnessBuckets[0]
		for _, b := range freshnessBuckets {
			if age >= b {
				bucket = b
			}
		}
		fresh[fmt.Sprint(bucket)]++
	}
	attrs["check_freshness"] = fresh
	attrs["check_counts"] = counts
	if only := r.URL.Query()["fields"]; len(only) > 0 {
		keep := map[string]bool{}
		for _, f := range only {
			for _, name := range strings.Split(f, ",") {
				if _, ok := attrs[name]; !ok {
					return errorf(http.StatusForbidden, "Invalid fields for metrics: %q", name)
				}
				keep[name] = true
			}
		}
		for name := range attrs {
			if !keep[name] {
				delete(attrs, name)
			}
		}
	}
	writeDoc(w, http.StatusOK, map[string]any{
		"data":  map[string]any{"id": uuid.NewString(), "type": "metrics", "attributes": attrs},
		"links": map[string]string{"self": requestURL(r)},
	})
	return nil
}

// actionTargets reads an acknowledgement's or test notification's single check
// or tag relationship and returns the checks it names.
func (s *server) actionTargets(ctx context.Context, v *validation, in *input) ([]flapjack.Check, error) {
	check, byCheck := v.toOne(in, "check")
	tag, byTag := v.toOne(in, "tag")
	if byCheck == byTag || (byCheck && check == "") || (byTag && tag == "") {
		v.add("exactly one of the relationships check and tag is required")
		return nil, nil
	}
	if byCheck {
		c, err := s.st.CheckByID(ctx, check)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, errorf(http.StatusNotFound, "could not find Check record, id: '%s'", check)
			}
			return nil, err
		}
		return []flapjack.Check{c}, nil
	}
	all, err := s.st.QueryChecks(ctx, store.CheckQuery{})
	if err != nil {
		return nil, err
	}
	var out []flapjack.Check
	for _, c := range all {
		if c.HasTag(strings.ToLower(tag)) {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, errorf(http.StatusNotFound, "could not find Tag record, id: '%s'", tag)
	}
	return out, nil
}

// postAction answers POST /acknowledgements and /test_notifications: it validates
// every input, pushes one event per selected check, and echoes the inputs.
func (s *server) postAction(w http.ResponseWriter, r *http.Request, typ string, attrs []string,
	events func(v *validation, in *input, checks []flapjack.Check) [][]byte) error {
	rs := &resource{typ: typ, path: typ + "s"}
	ins, bulk, err := readInputs(r, rs, true)
	if err != nil {
		return err
	}
	var v validation
	var payloads [][]byte
	var objs []any
	for _, in := range ins {
		if err := checkInput(in, attrs, map[string]bool{"check": true, "tag": true}); err != nil {
			return err
		}
		id := v.newID(in)
		checks, err := s.actionTargets(r.Context(), &v, in)
		if err != nil {
			return err
		}
		payloads = append(payloads, events(&v, in, checks)...)
		echo := map[string]any{}
		for k, raw := range in.Attributes {
			echo[k] = raw
		}
		objs = append(objs, map[string]any{"id": id, "type": typ, "attributes": echo})
	}
	if err := v.err(); err != nil {
		return err
	}
	if len(payloads) > 0 {
		if err := s.st.Queue(s.opts.EventsQueue).Push(r.Context(), payloads...); err != nil {
			return err
		}
	}
	var data any = objs
	if !bulk {
		data = objs[0]
	}
	writeDoc(w, http.StatusCreated, map[string]any{"data": data})
	return nil
}

func eventPayload(v *validation, ev flapjack.Event) []byte {
	b, err := json.Marshal(ev)
	if err != nil {
		v.add(err.Error())
	}
	return b
}

func (s *server) postAcknowledgements(w http.ResponseWriter, r *http.Request) error {
	return s.postAction(w, r, "acknowledgement", []string{"duration", "summary"},
		func(v *validation, in *input, checks []flapjack.Check) [][]byte {
			var summary string
			v.str(in, "summary", &summary)
			var duration *int64
			v.integer(in, "duration", 1, true, &duration)
			var out [][]byte
			for _, c := range checks {
				if !c.Failing || !c.Enabled {
					continue
				}
				out = append(out, eventPayload(v, flapjack.Event{Check: c.Name, State: string(flapjack.Acknowledgement),
					Summary: summary, Duration: duration, AcknowledgementID: c.AckHash, Time: s.opts.Clock.Now().Unix()}))
			}
			return out
		})
}

func (s *server) postTestNotifications(w http.ResponseWriter, r *http.Request) error {
	return s.postAction(w, r, "test_notification", []string{"condition", "summary"},
		func(v *validation, in *input, checks []flapjack.Check) [][]byte {
			var summary string
			v.str(in, "summary", &summary)
			cond := string(flapjack.Critical)
			if v.str(in, "condition", &cond) {
				if c, err := flapjack.ParseCondition(cond); err != nil || !c.Unhealthy() {
					v.add("condition must be critical, warning or unknown")
				}
			}
			var out [][]byte
			for _, c := range checks {
				out = append(out, eventPayload(v, flapjack.Event{Check: c.Name,
					State: string(flapjack.TestNotifications) + " " + cond, Summary: summary, Time: s.opts.Clock.Now().Unix()}))
			}
			return out
		})
}
