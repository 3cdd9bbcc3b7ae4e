package notifier_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier"
	"github.com/x/flapjack/store"
)

// Friday 2013-02-01 12:00 UTC.
var t0 = time.Date(2013, 2, 1, 12, 0, 0, 0, time.UTC)

// at is t0 plus s seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// weekdaysNineToFive is floating (no zone), so it is read in the contact's zone.
const weekdaysNineToFive = "DTSTART:20130201T090000\nDURATION:PT8H\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

// routing builds a routing snapshot: contacts, their media m1…, and rules.
func routing(contacts []flapjack.Contact, media []string, rules ...flapjack.Rule) *store.Routing {
	rt := &store.Routing{Contacts: map[string]*flapjack.Contact{}, Media: map[string]*flapjack.Medium{}}
	for i := range contacts {
		rt.Contacts[contacts[i].ID] = &contacts[i]
	}
	for _, id := range media {
		rt.Media[id] = &flapjack.Medium{ID: id, ContactID: "c", Transport: "email", Address: id + "@example.com"}
	}
	for i := range rules {
		r := &rules[i]
		if r.ContactID == "" {
			r.ContactID = "c"
		}
		rt.Rules = append(rt.Rules, r)
	}
	return rt
}

var contactC = []flapjack.Contact{{ID: "c", Name: "C"}}

// acceptor is an enabled rule of contact c.
func acceptor(id string, strategy flapjack.Strategy, tags []string, media ...string) flapjack.Rule {
	return flapjack.Rule{ID: id, Enabled: true, Strategy: strategy, Tags: tags, MediaIDs: media}
}

func blackhole(id string, strategy flapjack.Strategy, tags []string, media ...string) flapjack.Rule {
	r := acceptor(id, strategy, tags, media...)
	r.Blackhole = true
	return r
}

func with(r flapjack.Rule, change func(*flapjack.Rule)) flapjack.Rule {
	change(&r)
	return r
}

func mediaIDs(ms []*flapjack.Medium) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func ruleIDs(ms []notifier.Match) []string {
	out := []string{}
	for _, m := range ms {
		out = append(out, m.Rule.ID)
	}
	return out
}

var tags = func(t ...string) []string { return t }

func TestAlertingMediaRuleMatching(t *testing.T) {
	check := &flapjack.Check{Name: "foo:ping", Tags: []string{"foo", "ping"}}
	conds := func(cs ...flapjack.Condition) func(*flapjack.Rule) {
		return func(r *flapjack.Rule) { r.Conditions = cs }
	}
	tests := []struct {
		name     string
		rule     flapjack.Rule
		severity flapjack.Condition
		match    bool
	}{
		{"global", acceptor("r", flapjack.Global, nil, "m1"), flapjack.Critical, true},
		{"global ignores tags", acceptor("r", flapjack.Global, tags("bar"), "m1"), flapjack.Critical, true},
		{"any_tag, one in common", acceptor("r", flapjack.AnyTag, tags("bar", "foo"), "m1"), flapjack.Critical, true},
		{"any_tag, none in common", acceptor("r", flapjack.AnyTag, tags("bar"), "m1"), flapjack.Critical, false},
		{"any_tag without tags", acceptor("r", flapjack.AnyTag, nil, "m1"), flapjack.Critical, false},
		{"all_tags, all present", acceptor("r", flapjack.AllTags, tags("foo", "ping"), "m1"), flapjack.Critical, true},
		{"all_tags, one missing", acceptor("r", flapjack.AllTags, tags("foo", "bar"), "m1"), flapjack.Critical, false},
		{"all_tags without tags", acceptor("r", flapjack.AllTags, nil, "m1"), flapjack.Critical, true},
		{"no_tag, none present", acceptor("r", flapjack.NoTag, tags("bar", "baz"), "m1"), flapjack.Critical, true},
		{"no_tag, one present", acceptor("r", flapjack.NoTag, tags("bar", "ping"), "m1"), flapjack.Critical, false},
		{"no_tag without tags", acceptor("r", flapjack.NoTag, nil, "m1"), flapjack.Critical, true},
		{"conditions include the severity", with(acceptor("r", flapjack.Global, nil, "m1"), conds(flapjack.Critical)), flapjack.Critical, true},
		{"conditions exclude the severity", with(acceptor("r", flapjack.Global, nil, "m1"), conds(flapjack.Warning)), flapjack.Critical, false},
		{"one of several conditions", with(acceptor("r", flapjack.Global, nil, "m1"), conds(flapjack.Critical, flapjack.Warning)), flapjack.Warning, true},
		{"conditions never include ok", with(acceptor("r", flapjack.Global, nil, "m1"), conds(flapjack.Critical, flapjack.Warning, flapjack.Unknown)), flapjack.OK, false},
		{"no conditions: every severity", acceptor("r", flapjack.Global, nil, "m1"), flapjack.Unknown, true},
		{"no conditions: ok too", acceptor("r", flapjack.Global, nil, "m1"), flapjack.OK, true},
		{"disabled", with(acceptor("r", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.Enabled = false }), flapjack.Critical, false},
		{"without media", acceptor("r", flapjack.Global, nil), flapjack.Critical, false},
		{"medium no longer exists", acceptor("r", flapjack.Global, nil, "gone"), flapjack.Critical, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r notifier.Router
			got := r.AlertingMedia(routing(contactC, []string{"m1"}, tt.rule), check, tt.severity, t0)
			want := []string{}
			if tt.match {
				want = []string{"m1"}
			}
			if !slices.Equal(mediaIDs(got.Media), want) {
				t.Errorf("%s rule %v tags %v conditions %v, severity %s, check tags %v: media %v, want %v",
					tt.rule.Strategy, tt.rule.Enabled, tt.rule.Tags, tt.rule.Conditions, tt.severity, check.Tags, mediaIDs(got.Media), want)
			}
			if len(got.Problems) != 0 {
				t.Errorf("problems %v, want none", got.Problems)
			}
		})
	}
}

func TestAlertingMediaBlackholes(t *testing.T) {
	check := &flapjack.Check{Name: "foo:ping", Tags: []string{"foo", "ping"}}
	media := []string{"m1", "m2", "m3"}
	tests := []struct {
		name               string
		rules              []flapjack.Rule
		severity           flapjack.Condition
		want               []string
		accepted, rejected []string
	}{
		{
			name:     "acceptors add up",
			rules:    []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m2", "m1"), acceptor("a2", flapjack.AnyTag, tags("foo"), "m2", "m3")},
			want:     []string{"m1", "m2", "m3"},
			accepted: []string{"a1", "a2"}, rejected: []string{},
		},
		{
			name:     "a blackhole removes only its own media",
			rules:    []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1", "m2"), blackhole("b1", flapjack.Global, nil, "m1")},
			want:     []string{"m2"},
			accepted: []string{"a1"}, rejected: []string{"b1"},
		},
		{
			name:     "a blackhole removes a medium whichever acceptor chose it",
			rules:    []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1"), acceptor("a2", flapjack.Global, nil, "m2"), blackhole("b1", flapjack.AllTags, tags("foo"), "m2")},
			want:     []string{"m1"},
			accepted: []string{"a1", "a2"}, rejected: []string{"b1"},
		},
		{
			name:     "a blackhole whose tags do not match",
			rules:    []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1", "m2"), blackhole("b1", flapjack.AnyTag, tags("bar"), "m1", "m2")},
			want:     []string{"m1", "m2"},
			accepted: []string{"a1"}, rejected: []string{},
		},
		{
			name: "a blackhole for other severities",
			rules: []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1", "m2"),
				with(blackhole("b1", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.Conditions = []flapjack.Condition{flapjack.Warning} })},
			severity: flapjack.Critical,
			want:     []string{"m1", "m2"},
			accepted: []string{"a1"}, rejected: []string{},
		},
		{
			name: "a blackhole for this severity",
			rules: []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1", "m2"),
				with(blackhole("b1", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.Conditions = []flapjack.Condition{flapjack.Warning} })},
			severity: flapjack.Warning,
			want:     []string{"m2"},
			accepted: []string{"a1"}, rejected: []string{"b1"},
		},
		{
			name: "a disabled blackhole",
			rules: []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1"),
				with(blackhole("b1", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.Enabled = false })},
			want:     []string{"m1"},
			accepted: []string{"a1"}, rejected: []string{},
		},
		{
			name:     "a blackhole of media no acceptor chose",
			rules:    []flapjack.Rule{acceptor("a1", flapjack.Global, nil, "m1"), blackhole("b1", flapjack.Global, nil, "m3")},
			want:     []string{"m1"},
			accepted: []string{"a1"}, rejected: []string{"b1"},
		},
		{
			name:     "a blackhole alone",
			rules:    []flapjack.Rule{blackhole("b1", flapjack.Global, nil, "m1")},
			want:     []string{},
			accepted: []string{}, rejected: []string{},
		},
		{
			name:     "a rule without media does not count",
			rules:    []flapjack.Rule{acceptor("a1", flapjack.Global, nil), acceptor("a2", flapjack.Global, nil, "m2")},
			want:     []string{"m2"},
			accepted: []string{"a2"}, rejected: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			severity := tt.severity
			if severity == "" {
				severity = flapjack.Critical
			}
			var r notifier.Router
			got := r.AlertingMedia(routing(contactC, media, tt.rules...), check, severity, t0)
			if !slices.Equal(mediaIDs(got.Media), tt.want) {
				t.Errorf("media %v, want %v", mediaIDs(got.Media), tt.want)
			}
			if !slices.Equal(ruleIDs(got.Accepted), tt.accepted) || !slices.Equal(ruleIDs(got.Rejected), tt.rejected) {
				t.Errorf("accepted by %v, rejected by %v; want %v and %v", ruleIDs(got.Accepted), ruleIDs(got.Rejected), tt.accepted, tt.rejected)
			}
		})
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func TestAlertingMediaTimeRestrictionZones(t *testing.T) {
	newYork := mustZone(t, "America/New_York") // UTC-5 in February
	contacts := []flapjack.Contact{
		{ID: "baghdad", Name: "In Baghdad", Timezone: "Asia/Baghdad"}, // UTC+3
		{ID: "default", Name: "No zone"},
		{ID: "lost", Name: "Unknown zone", Timezone: "Mars/Olympus_Mons"},
	}
	rule := func(contact string) flapjack.Rule {
		r := acceptor("r-"+contact, flapjack.Global, nil, "m1")
		r.ContactID = contact
		r.TimeRestrictionICal = weekdaysNineToFive
		return r
	}
	tests := []struct {
		name     string
		contact  string
		defZone  *time.Location
		utc      float64 // hours after 00:00 UTC on Friday
		want     bool
		problems int
	}{
		{"contact's zone: 15:00 in Baghdad", "baghdad", newYork, 12, true, 0},
		{"contact's zone: 08:00 in Baghdad", "baghdad", newYork, 5, false, 0},
		{"contact's zone: 17:00 in Baghdad is the end", "baghdad", newYork, 14, false, 0},
		{"default zone: 07:00 in New York", "default", newYork, 12, false, 0},
		{"default zone: 09:00 in New York", "default", newYork, 14, true, 0},
		{"default zone: 16:59 in New York", "default", newYork, 21 + 59.0/60, true, 0},
		{"no default zone: UTC 12:00", "default", nil, 12, true, 0},
		{"no default zone: UTC 08:00", "default", nil, 8, false, 0},
		{"unknown zone: default used, 09:00 in New York", "lost", newYork, 14, true, 1},
		{"unknown zone: default used, 07:00 in New York", "lost", newYork, 12, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := notifier.Router{DefaultTimezone: tt.defZone}
			now := time.Date(2013, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(tt.utc * float64(time.Hour)))
			check := &flapjack.Check{Name: "foo:ping"}
			got := r.AlertingMedia(routing(contacts, []string{"m1"}, rule(tt.contact)), check, flapjack.Critical, now)
			if on := len(got.Media) == 1; on != tt.want {
				t.Errorf("at %s rule of contact %q: alerting = %v, want %v", now.Format("15:04Z"), tt.contact, on, tt.want)
			}
			if len(got.Problems) != tt.problems {
				t.Errorf("problems %q, want %d", got.Problems, tt.problems)
			}
			for _, p := range got.Problems {
				if !strings.Contains(p, "Mars/Olympus_Mons") {
					t.Errorf("problem %q does not name the unknown zone", p)
				}
			}
		})
	}
}

func TestAlertingMediaTimeRestrictedBlackhole(t *testing.T) {
	contacts := []flapjack.Contact{{ID: "c", Timezone: "Europe/London"}}
	rules := []flapjack.Rule{
		acceptor("a", flapjack.Global, nil, "m1", "m2"),
		with(blackhole("quiet", flapjack.Global, nil, "m2"), func(r *flapjack.Rule) { r.TimeRestrictionICal = weekdaysNineToFive }),
	}
	var r notifier.Router
	check := &flapjack.Check{Name: "foo:ping"}
	for _, tt := range []struct {
		hour float64
		want []string
	}{
		{8, []string{"m1", "m2"}},
		{9, []string{"m1"}},
		{16.99, []string{"m1"}},
		{17, []string{"m1", "m2"}},
	} {
		now := time.Date(2013, 2, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(tt.hour * float64(time.Hour)))
		got := r.AlertingMedia(routing(contacts, []string{"m1", "m2"}, rules...), check, flapjack.Critical, now)
		if !slices.Equal(mediaIDs(got.Media), tt.want) {
			t.Errorf("at %s London: media %v, want %v", now.Format("15:04"), mediaIDs(got.Media), tt.want)
		}
	}
}

func TestAlertingMediaInvalidTimeRestriction(t *testing.T) {
	const bad = "this is not a calendar"
	check := &flapjack.Check{Name: "foo:ping"}
	tests := []struct {
		name  string
		rules []flapjack.Rule
		want  []string
	}{
		{
			name:  "an acceptor applies",
			rules: []flapjack.Rule{with(acceptor("broken", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.TimeRestrictionICal = bad })},
			want:  []string{"m1"},
		},
		{
			name: "a blackhole does not",
			rules: []flapjack.Rule{
				acceptor("a", flapjack.Global, nil, "m1"),
				with(blackhole("broken", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.TimeRestrictionICal = bad }),
			},
			want: []string{"m1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r notifier.Router
			got := r.AlertingMedia(routing(contactC, []string{"m1"}, tt.rules...), check, flapjack.Critical, t0)
			if !slices.Equal(mediaIDs(got.Media), tt.want) {
				t.Errorf("media %v, want %v: an unusable time restriction must err toward alerting", mediaIDs(got.Media), tt.want)
			}
			if len(got.Problems) != 1 || !strings.Contains(got.Problems[0], "broken") {
				t.Errorf("problems %q, want one naming rule broken", got.Problems)
			}
		})
	}
}

func TestRoutesToMedium(t *testing.T) {
	check := &flapjack.Check{Name: "foo:ping", Tags: []string{"foo", "ping"}}
	critOnly := func(r *flapjack.Rule) { r.Conditions = []flapjack.Condition{flapjack.Critical} }
	tests := []struct {
		name  string
		rules []flapjack.Rule
		want  bool
	}{
		{"a matching acceptor", []flapjack.Rule{acceptor("a", flapjack.AnyTag, tags("foo"), "m1")}, true},
		{"conditions are ignored", []flapjack.Rule{with(acceptor("a", flapjack.AnyTag, tags("foo"), "m1"), critOnly)}, true},
		{"all_tags without tags matches", []flapjack.Rule{acceptor("a", flapjack.AllTags, nil, "m1")}, true},
		{"no_tag without tags matches", []flapjack.Rule{acceptor("a", flapjack.NoTag, nil, "m1")}, true},
		{"an acceptor of another medium", []flapjack.Rule{acceptor("a", flapjack.Global, nil, "m2")}, false},
		{"tags do not match", []flapjack.Rule{acceptor("a", flapjack.AnyTag, tags("bar"), "m1")}, false},
		{"a disabled acceptor", []flapjack.Rule{with(acceptor("a", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) { r.Enabled = false })}, false},
		{"outside the time restriction", []flapjack.Rule{with(acceptor("a", flapjack.Global, nil, "m1"), func(r *flapjack.Rule) {
			r.TimeRestrictionICal = "DTSTART:20130201T000000\nDURATION:PT1H\nRRULE:FREQ=DAILY"
		})}, false},
		{"a blackhole of the medium", []flapjack.Rule{acceptor("a", flapjack.Global, nil, "m1"), blackhole("b", flapjack.Global, nil, "m1")}, false},
		{"a blackhole of the medium for other conditions still removes it", []flapjack.Rule{
			acceptor("a", flapjack.Global, nil, "m1"), with(blackhole("b", flapjack.Global, nil, "m1"), critOnly)}, false},
		{"a blackhole of another medium", []flapjack.Rule{acceptor("a", flapjack.Global, nil, "m1"), blackhole("b", flapjack.Global, nil, "m2")}, true},
		{"a blackhole whose tags do not match", []flapjack.Rule{acceptor("a", flapjack.Global, nil, "m1"), blackhole("b", flapjack.AnyTag, tags("bar"), "m1")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r notifier.Router
			if got := r.RoutesToMedium(routing(contactC, []string{"m1", "m2"}, tt.rules...), "m1", check, t0); got != tt.want {
				t.Errorf("RoutesToMedium = %v, want %v", got, tt.want)
			}
		})
	}
}
