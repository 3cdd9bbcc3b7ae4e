package api

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

var tagPattern = regexp.MustCompile(`(?i)^[a-z0-9\-_.|]+$`)

func (s *server) checkRecord(c flapjack.Check) *record {
	rec := &record{
		id: c.ID,
		attrs: map[string]any{
			"name":                   c.Name,
			"enabled":                c.Enabled,
			"initial_failure_delay":  c.InitialFailureDelay,
			"repeat_failure_delay":   c.RepeatFailureDelay,
			"initial_recovery_delay": c.InitialRecoveryDelay,
			"failing":                c.Failing,
			"condition":              string(c.Condition),
			"ack_hash":               c.AckHash,
		},
		rels: map[string][]string{"tags": slices.Clone(c.Tags)},
	}
	rec.lazy = func(ctx context.Context, name string) ([]string, error) { return s.checkLinkage(ctx, &c, name) }
	return rec
}

// stamped is the id of a record with the time it is ordered by.
type stamped struct {
	at time.Time
	id string
}

// newestFirst returns the ids of items, the newest first; items of the same
// time keep their order.
func newestFirst(items []stamped) []string {
	slices.SortStableFunc(items, func(a, b stamped) int { return b.at.Compare(a.at) })
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.id
	}
	return ids
}

// maintenanceStamps stamps maintenances with their start; with current, only
// those covering now.
func maintenanceStamps(ms []flapjack.Maintenance, current bool, now time.Time) []stamped {
	var out []stamped
	for _, m := range ms {
		if !current || m.Covers(now) {
			out = append(out, stamped{m.Start, m.ID})
		}
	}
	return out
}

// historyStamps stamps the states of a check's history with their creation.
func (s *server) historyStamps(ctx context.Context, c *flapjack.Check) ([]stamped, error) {
	hist, err := s.st.History(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	out := make([]stamped, len(hist))
	for i, st := range hist {
		out[i] = stamped{st.CreatedAt, stateID(c.ID, st.CreatedAt)}
	}
	return out, nil
}

// checkLinkage computes a check's relationships other than tags.
func (s *server) checkLinkage(ctx context.Context, c *flapjack.Check, name string) ([]string, error) {
	now := s.opts.Clock.Now()
	switch name {
	case "scheduled_maintenances":
		return newestFirst(maintenanceStamps(c.ScheduledMaintenances, false, now)), nil
	case "unscheduled_maintenances":
		return newestFirst(maintenanceStamps(c.UnscheduledMaintenances, false, now)), nil
	case "current_scheduled_maintenances":
		return newestFirst(maintenanceStamps(c.ScheduledMaintenances, true, now)), nil
	case "current_unscheduled_maintenance":
		ids := newestFirst(maintenanceStamps(c.UnscheduledMaintenances, true, now))
		return ids[:min(len(ids), 1)], nil
	case "current_state":
		if c.CurrentState == nil {
			return nil, nil
		}
		return []string{stateID(c.ID, c.CurrentState.CreatedAt)}, nil
	case "states":
		stamps, err := s.historyStamps(ctx, c)
		if err != nil {
			return nil, err
		}
		return newestFirst(stamps), nil
	case "latest_notifications":
		stamps := make([]stamped, len(c.LatestNotifications))
		for i, n := range c.LatestNotifications {
			stamps[i] = stamped{n.CreatedAt, notificationStateID(c.ID, n)}
		}
		return newestFirst(stamps), nil
	case "alerting_media", "contacts":
		if !c.Enabled {
			return nil, nil
		}
		rt, err := s.st.Routing(ctx)
		if err != nil {
			return nil, err
		}
		var ids []string
		if name == "contacts" {
			for _, rule := range rt.Rules {
				if rule.Enabled && !rule.Blackhole && rule.Strategy.MatchesTags(rule.Tags, c.Tags) {
					ids = append(ids, rule.ContactID)
				}
			}
			slices.Sort(ids)
			return slices.Compact(ids), nil
		}
		_, sched := c.InScheduledMaintenance(now)
		_, unsched := c.InUnscheduledMaintenance(now)
		if sched || unsched || !c.Condition.Unhealthy() {
			return nil, nil
		}
		for _, m := range s.router.AlertingMedia(rt, c, c.Condition, now).Media {
			ids = append(ids, m.ID)
		}
		return ids, nil
	}
	return nil, nil
}

// checkFields is what a POST or PATCH sets on a check.
type checkFields struct {
	in                     *input
	name                   string
	enabled                bool
	hasName, hasEnabled    bool
	ifd, rfd, ird          *int64
	hasIFD, hasRFD, hasIRD bool
	tags                   []string
	hasTags                bool
}

func readCheck(v *validation, in *input) *checkFields {
	if err := checkInput(in, []string{"name", "enabled", "initial_failure_delay", "repeat_failure_delay", "initial_recovery_delay"},
		map[string]bool{"tags": true}); err != nil {
		v.fail(err)
		return nil
	}
	f := &checkFields{in: in}
	f.hasName = v.str(in, "name", &f.name)
	f.hasEnabled = v.boolean(in, "enabled", &f.enabled)
	f.hasIFD = v.integer(in, "initial_failure_delay", 0, true, &f.ifd)
	f.hasRFD = v.integer(in, "repeat_failure_delay", 0, true, &f.rfd)
	f.hasIRD = v.integer(in, "initial_recovery_delay", 0, true, &f.ird)
	if tags, given := v.toMany(in, "tags"); given {
		f.tags, f.hasTags = v.tagNames(tags), true
	}
	return f
}

func (f *checkFields) apply(c *flapjack.Check) {
	if f.hasEnabled {
		c.Enabled = f.enabled
	}
	if f.hasIFD {
		c.InitialFailureDelay = f.ifd
	}
	if f.hasRFD {
		c.RepeatFailureDelay = f.rfd
	}
	if f.hasIRD {
		c.InitialRecoveryDelay = f.ird
	}
	if f.hasTags {
		c.Tags = f.tags
	}
}

func (s *server) checks() *resource {
	return &resource{
		typ: "check", path: "checks", title: "Check",
		attrs: []attrSpec{{"name", kString}, {"enabled", kBool}, {"initial_failure_delay", kInt},
			{"repeat_failure_delay", kInt}, {"initial_recovery_delay", kInt}, {"failing", kBool},
			{"condition", kString}, {"ack_hash", kString}},
		rels: map[string]relSpec{
			"tags":                            {typ: "tag", toMany: true, includable: true},
			"alerting_media":                  {typ: "medium", toMany: true, includable: true},
			"contacts":                        {typ: "contact", toMany: true, includable: true},
			"current_scheduled_maintenances":  {typ: "scheduled_maintenance", toMany: true, includable: true},
			"current_unscheduled_maintenance": {typ: "unscheduled_maintenance", includable: true},
			"current_state":                   {typ: "state", includable: true},
			"latest_notifications":            {typ: "state", toMany: true, includable: true},
			"scheduled_maintenances":          {typ: "scheduled_maintenance", toMany: true},
			"unscheduled_maintenances":        {typ: "unscheduled_maintenance", toMany: true},
			"states":                          {typ: "state", toMany: true},
		},
		writable: map[string]bool{"tags": true},
		link: func(ctx context.Context, id, rel string, ids []string) error {
			var v validation
			f := &checkFields{tags: v.tagNames(ids), hasTags: true}
			if err := v.err(); err != nil {
				return err
			}
			c, err := s.st.CheckByID(ctx, id)
			if err != nil {
				return err
			}
			_, err = s.st.UpdateCheck(ctx, c.Name, false, func(u *store.CheckUpdate) error {
				f.apply(&u.Check)
				return nil
			})
			return err
		},
		list: func(ctx context.Context) ([]*record, error) {
			all, err := s.st.QueryChecks(ctx, store.CheckQuery{})
			if err != nil {
				return nil, err
			}
			out := make([]*record, len(all))
			for i, c := range all {
				out[i] = s.checkRecord(c)
			}
			return out, nil
		},
		get: func(ctx context.Context, id string) (*record, error) {
			c, err := s.st.CheckByID(ctx, id)
			if err != nil {
				return nil, err
			}
			return s.checkRecord(c), nil
		},
		create: func(ctx context.Context, ins []*input) ([]string, error) {
			var v validation
			var fields []*checkFields
			names := map[string]bool{}
			for _, in := range ins {
				if in.ID != "" {
					v.add("check ids are assigned by the server")
				}
				f := readCheck(&v, in)
				if f == nil {
					continue
				}
				if !f.hasName || strings.TrimSpace(f.name) == "" {
					v.add("name is required")
				}
				if !f.hasEnabled {
					v.add("enabled is required")
				}
				if names[f.name] {
					v.add("name " + f.name + " is repeated")
				}
				names[f.name] = true
				fields = append(fields, f)
			}
			if err := v.err(); err != nil {
				return nil, err
			}
			var taken []string
			for _, f := range fields {
				if c, err := s.st.Check(ctx, f.name); err == nil {
					taken = append(taken, c.ID)
				} else if !errors.Is(err, store.ErrNotFound) {
					return nil, err
				}
			}
			if len(taken) > 0 {
				return nil, alreadyExist("Checks", taken)
			}
			ids := make([]string, 0, len(fields))
			for _, f := range fields {
				c, err := s.st.UpdateCheck(ctx, f.name, true, func(u *store.CheckUpdate) error {
					if !u.Created {
						return alreadyExist("Checks", []string{u.Check.ID})
					}
					f.apply(&u.Check)
					return nil
				})
				if err != nil {
					return nil, err
				}
				ids = append(ids, c.ID)
			}
			return ids, nil
		},
		update: func(ctx context.Context, ins []*input) error {
			var v validation
			var fields []*checkFields
			var names []string
			for _, in := range ins {
				f := readCheck(&v, in)
				if f == nil {
					continue
				}
				c, err := s.st.CheckByID(ctx, in.ID)
				if err != nil {
					return err
				}
				if f.hasName && f.name != c.Name {
					v.add("name cannot be changed")
				}
				fields = append(fields, f)
				names = append(names, c.Name)
			}
			if err := v.err(); err != nil {
				return err
			}
			for i, f := range fields {
				if _, err := s.st.UpdateCheck(ctx, names[i], false, func(u *store.CheckUpdate) error {
					f.apply(&u.Check)
					return nil
				}); err != nil {
					return err
				}
			}
			return nil
		},
		remove: func(ctx context.Context, ids []string) error {
			for _, id := range ids {
				c, err := s.st.CheckByID(ctx, id)
				if err != nil {
					return err
				}
				if err := s.st.DeleteCheck(ctx, c.Name); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// tagCarriers are the relationships of a tag to what carries it; they are
// writable.
var tagCarriers = []string{"checks", "contacts", "rules"}

// tags have no record of their own: a tag exists while a check, a contact or
// a rule carries it, and its id is its name. Tags are written through the tags
// relationships of those records, or through a tag's relationships to them.
func (s *server) tags() *resource {
	list := func(ctx context.Context) ([]*record, error) {
		checks, err := s.st.QueryChecks(ctx, store.CheckQuery{})
		if err != nil {
			return nil, err
		}
		rt, err := s.st.Routing(ctx)
		if err != nil {
			return nil, err
		}
		byName := map[string]*record{}
		tagged := map[string][]*flapjack.Check{}
		tag := func(name string) *record {
			r := byName[name]
			if r == nil {
				r = &record{id: name, attrs: map[string]any{"name": name}, rels: map[string][]string{}}
				r.lazy = func(ctx context.Context, rel string) ([]string, error) {
					return s.tagAggregate(ctx, tagged[name], rel)
				}
				byName[name] = r
			}
			return r
		}
		for i, c := range checks {
			for _, t := range c.Tags {
				r := tag(t)
				r.rels["checks"] = append(r.rels["checks"], c.ID)
				tagged[t] = append(tagged[t], &checks[i])
			}
		}
		for _, id := range slices.Sorted(maps.Keys(rt.Contacts)) {
			for _, t := range rt.Contacts[id].Tags {
				r := tag(t)
				r.rels["contacts"] = append(r.rels["contacts"], id)
			}
		}
		for _, rule := range rt.Rules {
			for _, t := range rule.Tags {
				r := tag(t)
				r.rels["rules"] = append(r.rels["rules"], rule.ID)
			}
		}
		out := make([]*record, 0, len(byName))
		for _, r := range byName {
			out = append(out, r)
		}
		slices.SortFunc(out, func(a, b *record) int { return strings.Compare(a.id, b.id) })
		return out, nil
	}
	carriers := map[string]bool{}
	for _, rel := range tagCarriers {
		carriers[rel] = true
	}
	return &resource{
		typ: "tag", path: "tags", title: "Tag",
		attrs: []attrSpec{{"name", kString}},
		rels: map[string]relSpec{
			"checks":                   {typ: "check", toMany: true, includable: true},
			"contacts":                 {typ: "contact", toMany: true, includable: true},
			"rules":                    {typ: "rule", toMany: true, includable: true},
			"scheduled_maintenances":   {typ: "scheduled_maintenance", toMany: true},
			"states":                   {typ: "state", toMany: true},
			"unscheduled_maintenances": {typ: "unscheduled_maintenance", toMany: true},
		},
		list:     list,
		writable: carriers,
		link: func(ctx context.Context, id, rel string, ids []string) error {
			return s.setTagged(ctx, id, rel, ids, true)
		},
		create: func(ctx context.Context, ins []*input) ([]string, error) {
			existing, err := list(ctx)
			if err != nil {
				return nil, err
			}
			var v validation
			var ids []string
			for _, in := range ins {
				if err := checkInput(in, []string{"name"}, carriers); err != nil {
					return nil, err
				}
				var name string
				v.str(in, "name", &name)
				if in.ID != "" && in.ID != name {
					v.add("a tag's id is its name")
				}
				if !tagPattern.MatchString(name) {
					v.add("name must match " + tagPattern.String())
				}
				name = strings.ToLower(name)
				if slices.ContainsFunc(existing, func(r *record) bool { return r.id == name }) || slices.Contains(ids, name) {
					return nil, alreadyExist("Tags", []string{name})
				}
				carried := 0
				for _, rel := range tagCarriers {
					linked, _ := v.toMany(in, rel)
					carried += len(linked)
				}
				if carried == 0 {
					v.add("a tag needs at least one check, contact or rule to carry it")
				}
				ids = append(ids, name)
			}
			if err := v.err(); err != nil {
				return nil, err
			}
			for i, in := range ins {
				for _, rel := range tagCarriers {
					if r, ok := in.Relationships[rel]; ok {
						if err := s.setTagged(ctx, ids[i], rel, r.ids, false); err != nil {
							return nil, err
						}
					}
				}
			}
			return ids, nil
		},
		remove: func(ctx context.Context, ids []string) error {
			for _, id := range ids {
				for _, rel := range tagCarriers {
					if err := s.setTagged(ctx, id, rel, nil, true); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
}

// tagAggregate computes the read-only relationships of a tag that gather the
// states and maintenances of the checks carrying it, the newest first.
func (s *server) tagAggregate(ctx context.Context, checks []*flapjack.Check, rel string) ([]string, error) {
	var stamps []stamped
	for _, c := range checks {
		switch rel {
		case "scheduled_maintenances":
			stamps = append(stamps, maintenanceStamps(c.ScheduledMaintenances, false, time.Time{})...)
		case "unscheduled_maintenances":
			stamps = append(stamps, maintenanceStamps(c.UnscheduledMaintenances, false, time.Time{})...)
		case "states":
			hist, err := s.historyStamps(ctx, c)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted meanwhile
			} else if err != nil {
				return nil, err
			}
			stamps = append(stamps, hist...)
		default:
			return nil, nil
		}
	}
	return newestFirst(stamps), nil
}

// setTagged gives tag to the checks, contacts or rules (rel) with the given
// ids; with exclusive it also takes it from every other one.
func (s *server) setTagged(ctx context.Context, tag, rel string, ids []string, exclusive bool) error {
	// change reports whether a record carrying has (or not) the tag must be
	// written.
	change := func(id string, has bool) (bool, bool) {
		want := slices.Contains(ids, id)
		return want, has != want && (want || exclusive)
	}
	switch rel {
	case "checks":
		for _, id := range ids {
			if _, err := s.st.CheckByID(ctx, id); errors.Is(err, store.ErrNotFound) {
				return errorf(http.StatusNotFound, "could not find Check record, id: '%s'", id)
			} else if err != nil {
				return err
			}
		}
		checks, err := s.st.QueryChecks(ctx, store.CheckQuery{})
		if err != nil {
			return err
		}
		for _, c := range checks {
			want, write := change(c.ID, c.HasTag(tag))
			if !write {
				continue
			}
			if _, err := s.st.UpdateCheck(ctx, c.Name, false, func(u *store.CheckUpdate) error {
				u.Check.Tags = retag(u.Check.Tags, tag, want)
				return nil
			}); err != nil {
				return err
			}
		}
	case "contacts":
		rt, err := s.st.Routing(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if rt.Contacts[id] == nil {
				return errorf(http.StatusNotFound, "could not find Contact record, id: '%s'", id)
			}
		}
		for _, id := range slices.Sorted(maps.Keys(rt.Contacts)) {
			c := rt.Contacts[id]
			want, write := change(id, slices.Contains(c.Tags, tag))
			if !write {
				continue
			}
			changed := *c
			changed.Tags = retag(c.Tags, tag, want)
			if err := s.st.PutContact(ctx, changed); err != nil {
				return err
			}
		}
	case "rules":
		rt, err := s.st.Routing(ctx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if !slices.ContainsFunc(rt.Rules, func(r *flapjack.Rule) bool { return r.ID == id }) {
				return errorf(http.StatusNotFound, "could not find Rule record, id: '%s'", id)
			}
		}
		for _, r := range rt.Rules {
			want, write := change(r.ID, slices.Contains(r.Tags, tag))
			if !write {
				continue
			}
			changed := *r
			changed.MediaIDs, changed.Conditions = slices.Clone(r.MediaIDs), slices.Clone(r.Conditions)
			changed.Tags = retag(r.Tags, tag, want)
			if err := s.st.PutRule(ctx, changed); err != nil {
				return err
			}
		}
	}
	return nil
}

// retag returns a sorted copy of ids with id added (on) or removed: a tag on a
// check or a rule, or a medium on a rule.
func retag(ids []string, id string, on bool) []string {
	out := slices.DeleteFunc(slices.Clone(ids), func(x string) bool { return x == id })
	if on {
		out = append(out, id)
		slices.Sort(out)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
