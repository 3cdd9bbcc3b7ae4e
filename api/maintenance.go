package api

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// timestamp reads an ISO 8601 attribute.
func (v *validation) timestamp(in *input, name string, dst *time.Time) bool {
	raw, ok := in.Attributes[name]
	if !ok {
		return false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		v.add(name + " must be an ISO 8601 time")
		return true
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.add(name + " must be an ISO 8601 time")
		return true
	}
	*dst = t
	return true
}

// maintenanceList picks a check's scheduled or unscheduled maintenances.
type maintenanceList func(c *flapjack.Check) *[]flapjack.Maintenance

func scheduledList(c *flapjack.Check) *[]flapjack.Maintenance   { return &c.ScheduledMaintenances }
func unscheduledList(c *flapjack.Check) *[]flapjack.Maintenance { return &c.UnscheduledMaintenances }

// maintenances serves scheduled_maintenances (scheduled true) or
// unscheduled_maintenances. A maintenance lives in its check's record; its id is
// the maintenance's.
func (s *server) maintenances(scheduled bool) *resource {
	pick := maintenanceList(unscheduledList)
	typ, title := "unscheduled_maintenance", "UnscheduledMaintenance"
	if scheduled {
		pick, typ, title = scheduledList, "scheduled_maintenance", "ScheduledMaintenance"
	}
	list := func(ctx context.Context) ([]*record, error) {
		checks, err := s.st.QueryChecks(ctx, store.CheckQuery{})
		if err != nil {
			return nil, err
		}
		var out []*record
		for _, c := range checks {
			for _, m := range *pick(&c) {
				out = append(out, &record{id: m.ID, attrs: map[string]any{
					"start_time": m.Start, "end_time": m.End, "summary": nullable(m.Summary),
				}, rels: map[string][]string{"check": {c.ID}}})
			}
		}
		return out, nil
	}
	// owner finds the check holding maintenance id.
	owner := func(ctx context.Context, id string) (string, error) {
		recs, err := list(ctx)
		if err != nil {
			return "", err
		}
		for _, r := range recs {
			if r.id == id {
				c, err := s.st.CheckByID(ctx, r.rels["check"][0])
				return c.Name, err
			}
		}
		return "", store.ErrNotFound
	}
	read := func(v *validation, in *input, m *flapjack.Maintenance, rels map[string]bool) {
		if err := checkInput(in, []string{"start_time", "end_time", "summary"}, rels); err != nil {
			v.fail(err)
			return
		}
		v.timestamp(in, "start_time", &m.Start)
		v.timestamp(in, "end_time", &m.End)
		v.str(in, "summary", &m.Summary)
		switch {
		case m.Start.IsZero() || m.End.IsZero():
			v.add("start_time and end_time are required")
		case !m.End.After(m.Start):
			v.add("end_time must be after start_time")
		}
	}
	rs := &resource{
		typ: typ, path: typ + "s", title: title,
		attrs:   []attrSpec{{"start_time", kTime}, {"end_time", kTime}, {"summary", kString}},
		rangeOK: map[string]bool{"start_time": true, "end_time": true},
		rels:    map[string]relSpec{"check": {typ: "check", includable: true}},
		list:    list,
		update: func(ctx context.Context, ins []*input) error {
			var v validation
			type change struct {
				check string
				m     flapjack.Maintenance
			}
			var changes []change
			recs, err := list(ctx)
			if err != nil {
				return err
			}
			for _, in := range ins {
				i := slices.IndexFunc(recs, func(r *record) bool { return r.id == in.ID })
				if i < 0 {
					return errorf(http.StatusNotFound, "could not find %s record, id: '%s'", title, in.ID)
				}
				r := recs[i]
				m := flapjack.Maintenance{ID: r.id, Start: r.attrs["start_time"].(time.Time), End: r.attrs["end_time"].(time.Time)}
				if sum, ok := r.attrs["summary"].(string); ok {
					m.Summary = sum
				}
				read(&v, in, &m, map[string]bool{})
				changes = append(changes, change{r.rels["check"][0], m})
			}
			if err := v.err(); err != nil {
				return err
			}
			for _, ch := range changes {
				c, err := s.st.CheckByID(ctx, ch.check)
				if err != nil {
					return err
				}
				if _, err := s.st.UpdateCheck(ctx, c.Name, false, func(u *store.CheckUpdate) error {
					ms := pick(&u.Check)
					for i := range *ms {
						if (*ms)[i].ID == ch.m.ID {
							(*ms)[i] = ch.m
						}
					}
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		},
		remove: func(ctx context.Context, ids []string) error {
			for _, id := range ids {
				name, err := owner(ctx, id)
				if err != nil {
					return err
				}
				if _, err := s.st.UpdateCheck(ctx, name, false, func(u *store.CheckUpdate) error {
					ms := pick(&u.Check)
					*ms = slices.DeleteFunc(slices.Clone(*ms), func(m flapjack.Maintenance) bool { return m.ID == id })
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		},
	}
	if !scheduled {
		return rs
	}
	rs.create = func(ctx context.Context, ins []*input) ([]string, error) {
		var v validation
		type add struct {
			checks []string
			m      flapjack.Maintenance
		}
		var adds []add
		var ids []string
		existing, err := list(ctx)
		if err != nil {
			return nil, err
		}
		for _, in := range ins {
			m := flapjack.Maintenance{ID: v.newID(in)}
			read(&v, in, &m, map[string]bool{"check": true, "tag": true})
			checks, err := s.actionTargets(ctx, &v, in)
			if err != nil {
				return nil, err
			}
			if slices.ContainsFunc(existing, func(r *record) bool { return r.id == m.ID }) || slices.Contains(ids, m.ID) {
				return nil, alreadyExist("ScheduledMaintenances", []string{m.ID})
			}
			var names []string
			for i, c := range checks {
				names = append(names, c.Name)
				if i > 0 {
					// One identical maintenance per check of the tag, each with its own id.
					m2 := m
					m2.ID = derivedID(m.ID, c.ID)
					adds = append(adds, add{[]string{c.Name}, m2})
					ids = append(ids, m2.ID)
					continue
				}
				adds = append(adds, add{[]string{c.Name}, m})
				ids = append(ids, m.ID)
			}
		}
		if err := v.err(); err != nil {
			return nil, err
		}
		for _, a := range adds {
			if _, err := s.st.UpdateCheck(ctx, a.checks[0], false, func(u *store.CheckUpdate) error {
				u.Check.ScheduledMaintenances = append(slices.Clone(u.Check.ScheduledMaintenances), a.m)
				return nil
			}); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}
	return rs
}

// derivedID is a stable UUID-shaped id made from others.
func derivedID(parts ...string) string {
	sum := sha1.Sum([]byte(strings.Join(parts, "\x00")))
	sum[6] = sum[6]&0x0f | 0x50
	sum[8] = sum[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
}

func stateID(checkID string, createdAt time.Time) string {
	return derivedID(checkID, createdAt.UTC().Format(time.RFC3339Nano))
}

// notificationStateID is the id of the state a check's latest notification n
// was made from. A notification of a change of condition was made from the
// history entry created at the same time, and has its id; the others (a
// repeated problem, an acknowledgement) are states of their own.
func notificationStateID(checkID string, n flapjack.State) string {
	if n.Action == flapjack.NoAction {
		return stateID(checkID, n.CreatedAt)
	}
	return derivedID(checkID, n.CreatedAt.UTC().Format(time.RFC3339Nano), string(n.Action))
}

// states are the checks' histories and the states their latest notifications
// were made from. A state has no id of its own in the store: its id is derived
// from its check's and its creation time (and its action, for a notification
// of one).
func (s *server) states() *resource {
	return &resource{
		typ: "state", path: "states", title: "State",
		attrs: []attrSpec{{"created_at", kTime}, {"updated_at", kTime}, {"condition", kString}, {"action", kString},
			{"summary", kString}, {"details", kString}, {"perfdata", kOther}},
		rangeOK: map[string]bool{"created_at": true},
		rels:    map[string]relSpec{"check": {typ: "check", includable: true}},
		list: func(ctx context.Context) ([]*record, error) {
			checks, err := s.st.QueryChecks(ctx, store.CheckQuery{})
			if err != nil {
				return nil, err
			}
			var out []*record
			for _, c := range checks {
				hist, err := s.st.History(ctx, c.ID)
				if err != nil {
					return nil, err
				}
				if n := len(hist); n > 0 && c.CurrentState != nil && hist[n-1].CreatedAt.Equal(c.CurrentState.CreatedAt) {
					hist[n-1] = *c.CurrentState
				}
				seen := make(map[string]bool, len(hist))
				add := func(id string, st flapjack.State) {
					var perf any
					if len(st.Perfdata) > 0 {
						perf = st.Perfdata
					}
					seen[id] = true
					out = append(out, &record{
						id: id,
						attrs: map[string]any{
							"created_at": st.CreatedAt, "updated_at": st.UpdatedAt,
							"condition": nullable(string(st.Condition)), "action": nullable(string(st.Action)),
							"summary": nullable(st.Summary), "details": nullable(st.Details), "perfdata": perf,
						},
						rels: map[string][]string{"check": {c.ID}},
					})
				}
				for _, st := range hist {
					add(stateID(c.ID, st.CreatedAt), st)
				}
				for _, n := range c.LatestNotifications {
					if id := notificationStateID(c.ID, n); !seen[id] {
						add(id, n)
					}
				}
			}
			return out, nil
		},
	}
}
