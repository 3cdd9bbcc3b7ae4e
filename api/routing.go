package api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier/restriction"
	"github.com/x/flapjack/store"
)

// routingResource builds the list and get of a resource kept in the routing
// snapshot.
func (s *server) fromRouting(build func(rt *store.Routing) []*record) func(ctx context.Context) ([]*record, error) {
	return func(ctx context.Context) ([]*record, error) {
		rt, err := s.st.Routing(ctx)
		if err != nil {
			return nil, err
		}
		out := build(rt)
		slices.SortFunc(out, func(a, b *record) int { return strings.Compare(a.id, b.id) })
		return out, nil
	}
}

func (s *server) contacts() *resource {
	list := s.fromRouting(func(rt *store.Routing) []*record {
		out := make([]*record, 0, len(rt.Contacts))
		for _, c := range rt.Contacts {
			r := &record{id: c.ID, attrs: map[string]any{"name": c.Name, "timezone": nullable(c.Timezone)},
				rels: map[string][]string{"tags": slices.Clone(c.Tags)}}
			for _, m := range rt.Media {
				if m.ContactID == c.ID {
					r.rels["media"] = append(r.rels["media"], m.ID)
				}
			}
			slices.Sort(r.rels["media"])
			for _, rule := range rt.Rules {
				if rule.ContactID == c.ID {
					r.rels["rules"] = append(r.rels["rules"], rule.ID)
				}
			}
			r.lazy = func(ctx context.Context, name string) ([]string, error) {
				if name != "checks" {
					return nil, nil
				}
				return s.checkIDs(ctx, store.CheckQuery{}, func(ch *flapjack.Check) bool {
					return ch.Enabled && slices.ContainsFunc(rt.Rules, func(rule *flapjack.Rule) bool {
						return rule.ContactID == c.ID && rule.Enabled && !rule.Blackhole && rule.Strategy.MatchesTags(rule.Tags, ch.Tags)
					})
				})
			}
			out = append(out, r)
		}
		return out
	})
	read := func(v *validation, in *input, c *flapjack.Contact) {
		if err := checkInput(in, []string{"name", "timezone"}, map[string]bool{"tags": true}); err != nil {
			v.fail(err)
			return
		}
		v.str(in, "name", &c.Name)
		if v.str(in, "timezone", &c.Timezone) && c.Timezone != "" {
			if _, err := time.LoadLocation(c.Timezone); err != nil || strings.EqualFold(c.Timezone, "local") {
				v.add("timezone " + c.Timezone + " is not a valid time zone")
			}
		}
		if tags, given := v.toMany(in, "tags"); given {
			c.Tags = v.tagNames(tags)
		}
	}
	return &resource{
		typ: "contact", path: "contacts", title: "Contact",
		attrs: []attrSpec{{"name", kString}, {"timezone", kString}},
		rels: map[string]relSpec{
			"checks": {typ: "check", toMany: true, includable: true},
			"media":  {typ: "medium", toMany: true, includable: true},
			"rules":  {typ: "rule", toMany: true, includable: true},
			"tags":   {typ: "tag", toMany: true, includable: true},
		},
		writable: map[string]bool{"tags": true},
		link: func(ctx context.Context, id, rel string, ids []string) error {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return err
			}
			old := rt.Contacts[id]
			if old == nil {
				return errorf(http.StatusNotFound, "could not find Contact record, id: '%s'", id)
			}
			c := *old
			var v validation
			c.Tags = v.tagNames(ids)
			if err := v.err(); err != nil {
				return err
			}
			return s.st.PutContact(ctx, c)
		},
		list: list,
		create: func(ctx context.Context, ins []*input) ([]string, error) {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return nil, err
			}
			return createAll(ctx, ins, "Contacts", func(v *validation, in *input) (flapjack.Contact, string, error) {
				c := flapjack.Contact{ID: v.newID(in)}
				read(v, in, &c)
				return c, c.ID, nil
			}, func(id string) bool { return rt.Contacts[id] != nil }, s.st.PutContact)
		},
		update: func(ctx context.Context, ins []*input) error {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return err
			}
			return updateAll(ctx, ins, func(v *validation, in *input) (flapjack.Contact, error) {
				old := rt.Contacts[in.ID]
				if old == nil {
					return flapjack.Contact{}, errorf(http.StatusNotFound, "could not find Contact record, id: '%s'", in.ID)
				}
				c := *old
				read(v, in, &c)
				return c, nil
			}, s.st.PutContact)
		},
		remove: func(ctx context.Context, ids []string) error {
			for _, id := range ids {
				if err := s.st.DeleteContact(ctx, id); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func positive(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

var transports = []string{"email", "jabber", "pagerduty", "sms", "slack", "sms_twilio", "sms_nexmo", "sms_aspsms", "sns", "threema"}

func (s *server) media() *resource {
	list := s.fromRouting(func(rt *store.Routing) []*record {
		out := make([]*record, 0, len(rt.Media))
		for _, m := range rt.Media {
			interval := m.Interval
			r := &record{id: m.ID, attrs: map[string]any{
				"transport": m.Transport, "address": m.Address, "interval": &interval,
				"rollup_threshold":       positive(m.RollupThreshold),
				"pagerduty_subdomain":    nullable(m.PagerdutySubdomain),
				"pagerduty_token":        nullable(m.PagerdutyToken),
				"pagerduty_ack_duration": positive(m.PagerdutyAckDuration),
			}, rels: map[string][]string{"contact": {m.ContactID}}}
			for _, rule := range rt.Rules {
				if slices.Contains(rule.MediaIDs, m.ID) {
					r.rels["rules"] = append(r.rels["rules"], rule.ID)
				}
			}
			r.lazy = func(ctx context.Context, name string) ([]string, error) {
				if name != "alerting_checks" {
					return nil, nil
				}
				now := s.opts.Clock.Now()
				return s.checkIDs(ctx, store.CheckQuery{Alertable: true}, func(ch *flapjack.Check) bool {
					return s.router.RoutesToMedium(rt, m.ID, ch, now)
				})
			}
			out = append(out, r)
		}
		return out
	})
	// read applies in's attributes to m and validates the result.
	read := func(v *validation, in *input, m *flapjack.Medium, hasInterval bool) {
		if err := checkInput(in, []string{"transport", "address", "interval", "rollup_threshold",
			"pagerduty_subdomain", "pagerduty_token", "pagerduty_ack_duration"}, map[string]bool{"contact": true}); err != nil {
			v.fail(err)
			return
		}
		v.str(in, "transport", &m.Transport)
		v.str(in, "address", &m.Address)
		v.str(in, "pagerduty_subdomain", &m.PagerdutySubdomain)
		v.str(in, "pagerduty_token", &m.PagerdutyToken)
		var n *int64
		if v.integer(in, "interval", 0, false, &n) && n != nil {
			m.Interval, hasInterval = *n, true
		}
		n = nil
		if v.integer(in, "rollup_threshold", 1, true, &n) {
			m.RollupThreshold = deref(n)
		}
		n = nil
		if v.integer(in, "pagerduty_ack_duration", 1, true, &n) {
			m.PagerdutyAckDuration = deref(n)
		}
		pd := m.Transport == "pagerduty"
		switch {
		case !slices.Contains(transports, m.Transport):
			v.add("transport must be one of " + strings.Join(transports, ", "))
		case m.Address == "":
			v.add("address is required")
		case !pd && !hasInterval:
			v.add("interval is required")
		case pd && m.RollupThreshold != 0:
			v.add("rollup_threshold must be null for pagerduty")
		case pd && (m.PagerdutySubdomain == "" || m.PagerdutyToken == ""):
			v.add("pagerduty_subdomain and pagerduty_token are required for pagerduty")
		case !pd && (m.PagerdutySubdomain != "" || m.PagerdutyToken != "" || m.PagerdutyAckDuration != 0):
			v.add("pagerduty_* attributes are only for pagerduty media")
		}
	}
	return &resource{
		typ: "medium", path: "media", title: "Medium",
		attrs: []attrSpec{{"transport", kString}, {"address", kString}, {"interval", kInt},
			{"rollup_threshold", kInt}, {"pagerduty_subdomain", kString}, {"pagerduty_token", kString},
			{"pagerduty_ack_duration", kInt}},
		rels: map[string]relSpec{
			"contact":         {typ: "contact", includable: true},
			"rules":           {typ: "rule", toMany: true, includable: true},
			"alerting_checks": {typ: "check", toMany: true, includable: true},
		},
		writable: map[string]bool{"rules": true},
		link: func(ctx context.Context, id, rel string, ids []string) error {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return err
			}
			for _, rid := range ids {
				if !slices.ContainsFunc(rt.Rules, func(r *flapjack.Rule) bool { return r.ID == rid }) {
					return errorf(http.StatusNotFound, "could not find Rule record, id: '%s'", rid)
				}
			}
			for _, r := range rt.Rules {
				want := slices.Contains(ids, r.ID)
				if slices.Contains(r.MediaIDs, id) == want {
					continue
				}
				changed := *r
				changed.Tags, changed.Conditions = slices.Clone(r.Tags), slices.Clone(r.Conditions)
				changed.MediaIDs = retag(r.MediaIDs, id, want)
				if err := s.st.PutRule(ctx, changed); err != nil {
					return err
				}
			}
			return nil
		},
		list: list,
		create: func(ctx context.Context, ins []*input) ([]string, error) {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return nil, err
			}
			return createAll(ctx, ins, "Media", func(v *validation, in *input) (flapjack.Medium, string, error) {
				m := flapjack.Medium{ID: v.newID(in)}
				read(v, in, &m, false)
				contact, given := v.toOne(in, "contact")
				switch {
				case !given || contact == "":
					v.add("contact is required")
				case rt.Contacts[contact] == nil:
					return m, "", errorf(http.StatusNotFound, "could not find Contact record, id: '%s'", contact)
				}
				m.ContactID = contact
				return m, m.ID, nil
			}, func(id string) bool { return rt.Media[id] != nil }, s.st.PutMedium)
		},
		update: func(ctx context.Context, ins []*input) error {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return err
			}
			return updateAll(ctx, ins, func(v *validation, in *input) (flapjack.Medium, error) {
				old := rt.Media[in.ID]
				if old == nil {
					return flapjack.Medium{}, errorf(http.StatusNotFound, "could not find Medium record, id: '%s'", in.ID)
				}
				m := *old
				read(v, in, &m, true)
				if contact, given := v.toOne(in, "contact"); given && contact != m.ContactID {
					return m, errorf(http.StatusNotFound, "the contact of a medium cannot be changed")
				}
				return m, nil
			}, s.st.PutMedium)
		},
		remove: func(ctx context.Context, ids []string) error {
			for _, id := range ids {
				if err := s.st.DeleteMedium(ctx, id); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func deref(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

func (s *server) rules() *resource {
	list := s.fromRouting(func(rt *store.Routing) []*record {
		out := make([]*record, 0, len(rt.Rules))
		for _, rule := range rt.Rules {
			var conds []string
			for _, c := range rule.Conditions {
				conds = append(conds, string(c))
			}
			out = append(out, &record{id: rule.ID, attrs: map[string]any{
				"name": nullable(rule.Name), "enabled": rule.Enabled, "blackhole": rule.Blackhole,
				"strategy": string(rule.Strategy), "conditions_list": nullable(strings.Join(conds, ",")),
				"time_restriction_ical": nullable(rule.TimeRestrictionICal),
			}, rels: map[string][]string{
				"contact": {rule.ContactID},
				"media":   slices.Clone(rule.MediaIDs),
				"tags":    slices.Clone(rule.Tags),
			}})
		}
		return out
	})
	read := func(v *validation, rt *store.Routing, in *input, r *flapjack.Rule, creating bool) error {
		if err := checkInput(in, []string{"name", "enabled", "blackhole", "strategy", "conditions_list", "time_restriction_ical"},
			map[string]bool{"contact": true, "media": true, "tags": true}); err != nil {
			v.fail(err)
			return nil
		}
		v.str(in, "name", &r.Name)
		if !v.boolean(in, "enabled", &r.Enabled) && creating {
			v.add("enabled is required")
		}
		if !v.boolean(in, "blackhole", &r.Blackhole) && creating {
			v.add("blackhole is required")
		}
		var strategy string
		if v.str(in, "strategy", &strategy) || creating {
			st, err := flapjack.ParseStrategy(strategy)
			if err != nil {
				v.add("strategy must be one of global, any_tag, all_tags, no_tag")
			}
			r.Strategy = st
		}
		var conds string
		if v.str(in, "conditions_list", &conds) {
			r.Conditions = nil
			for _, part := range strings.Split(conds, ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				c, err := flapjack.ParseCondition(part)
				if err != nil || !c.Unhealthy() {
					v.add("conditions_list may hold only critical, warning and unknown")
					break
				}
				r.Conditions = append(r.Conditions, c)
			}
		}
		if v.str(in, "time_restriction_ical", &r.TimeRestrictionICal) && r.TimeRestrictionICal != "" {
			if _, err := restriction.Parse(r.TimeRestrictionICal); err != nil {
				v.add("time_restriction_ical is invalid: " + err.Error())
			}
		}
		if media, given := v.toMany(in, "media"); given {
			for _, id := range media {
				if rt.Media[id] == nil {
					return errorf(http.StatusNotFound, "could not find Medium record, id: '%s'", id)
				}
			}
			r.MediaIDs = slices.Compact(slices.Sorted(slices.Values(media)))
		}
		if tags, given := v.toMany(in, "tags"); given {
			r.Tags = v.tagNames(tags)
		}
		contact, given := v.toOne(in, "contact")
		switch {
		case creating && (!given || contact == ""):
			v.add("contact is required")
		case creating && rt.Contacts[contact] == nil:
			return errorf(http.StatusNotFound, "could not find Contact record, id: '%s'", contact)
		case creating:
			r.ContactID = contact
		case given && contact != r.ContactID:
			return errorf(http.StatusNotFound, "the contact of a rule cannot be changed")
		}
		return nil
	}
	return &resource{
		typ: "rule", path: "rules", title: "Rule",
		attrs: []attrSpec{{"name", kString}, {"enabled", kBool}, {"blackhole", kBool}, {"strategy", kString},
			{"conditions_list", kString}, {"time_restriction_ical", kString}},
		rels: map[string]relSpec{
			"contact": {typ: "contact", includable: true},
			"media":   {typ: "medium", toMany: true, includable: true},
			"tags":    {typ: "tag", toMany: true, includable: true},
		},
		writable: map[string]bool{"media": true, "tags": true},
		link: func(ctx context.Context, id, rel string, ids []string) error {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(rt.Rules, func(x *flapjack.Rule) bool { return x.ID == id })
			if i < 0 {
				return errorf(http.StatusNotFound, "could not find Rule record, id: '%s'", id)
			}
			r := *rt.Rules[i]
			r.MediaIDs, r.Tags = slices.Clone(r.MediaIDs), slices.Clone(r.Tags)
			var v validation
			in := &input{Type: "rule", ID: id, Relationships: map[string]relInput{rel: {ids: ids, toMany: true}}}
			if err := read(&v, rt, in, &r, false); err != nil {
				return err
			}
			if err := v.err(); err != nil {
				return err
			}
			return s.st.PutRule(ctx, r)
		},
		list: list,
		create: func(ctx context.Context, ins []*input) ([]string, error) {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return nil, err
			}
			return createAll(ctx, ins, "Rules", func(v *validation, in *input) (flapjack.Rule, string, error) {
				r := flapjack.Rule{ID: v.newID(in)}
				err := read(v, rt, in, &r, true)
				return r, r.ID, err
			}, func(id string) bool {
				return slices.ContainsFunc(rt.Rules, func(x *flapjack.Rule) bool { return x.ID == id })
			}, s.st.PutRule)
		},
		update: func(ctx context.Context, ins []*input) error {
			rt, err := s.st.Routing(ctx)
			if err != nil {
				return err
			}
			return updateAll(ctx, ins, func(v *validation, in *input) (flapjack.Rule, error) {
				i := slices.IndexFunc(rt.Rules, func(x *flapjack.Rule) bool { return x.ID == in.ID })
				if i < 0 {
					return flapjack.Rule{}, errorf(http.StatusNotFound, "could not find Rule record, id: '%s'", in.ID)
				}
				r := *rt.Rules[i]
				r.MediaIDs, r.Tags, r.Conditions = slices.Clone(r.MediaIDs), slices.Clone(r.Tags), slices.Clone(r.Conditions)
				err := read(v, rt, in, &r, false)
				return r, err
			}, s.st.PutRule)
		},
		remove: func(ctx context.Context, ids []string) error {
			for _, id := range ids {
				if err := s.st.DeleteRule(ctx, id); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// checkIDs returns the ids of the checks q selects that keep accepts.
func (s *server) checkIDs(ctx context.Context, q store.CheckQuery, keep func(*flapjack.Check) bool) ([]string, error) {
	checks, err := s.st.QueryChecks(ctx, q)
	if err != nil {
		return nil, err
	}
	var ids []string
	for i := range checks {
		if keep(&checks[i]) {
			ids = append(ids, checks[i].ID)
		}
	}
	return ids, nil
}

// createAll builds a record from every input, refuses ids that exist or repeat
// within the request, and writes the records only when all of them are valid:
// the create of the contact, medium and rule resources.
func createAll[T any](ctx context.Context, ins []*input, plural string,
	build func(v *validation, in *input) (T, string, error),
	exists func(id string) bool, put func(context.Context, T) error) ([]string, error) {
	var v validation
	var out []T
	var taken, ids []string
	for _, in := range ins {
		rec, id, err := build(&v, in)
		if err != nil {
			return nil, err
		}
		if exists(id) || slices.Contains(ids, id) {
			taken = append(taken, id)
		}
		ids = append(ids, id)
		out = append(out, rec)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(taken) > 0 {
		return nil, alreadyExist(plural, taken)
	}
	for _, rec := range out {
		if err := put(ctx, rec); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// updateAll applies every input to its record and writes them only when all of
// them are valid.
func updateAll[T any](ctx context.Context, ins []*input,
	apply func(v *validation, in *input) (T, error), put func(context.Context, T) error) error {
	var v validation
	var out []T
	for _, in := range ins {
		rec, err := apply(&v, in)
		if err != nil {
			return err
		}
		out = append(out, rec)
	}
	if err := v.err(); err != nil {
		return err
	}
	for _, rec := range out {
		if err := put(ctx, rec); err != nil {
			return err
		}
	}
	return nil
}
