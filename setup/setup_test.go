package setup_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/setup"
	"github.com/x/flapjack/store/memory"
)

const valid = `# a complete set-up
checks:
  - name: "web-01:HTTP"
    tags: [Web, http, WEB]
  - name: "db-01:disk"
    enabled: false
    initial_failure_delay: 0
    repeat_failure_delay: 300
    initial_recovery_delay: 15
contacts:
  - id: ops
    name: Ops on call
    timezone: Europe/Rome
    media:
      - {id: ops_email, transport: email, address: ops@example.com, interval: 900, rollup_threshold: 3}
      - id: ops_pd
        transport: pagerduty
        address: ops-service-key
        pagerduty_subdomain: example
        pagerduty_token: t0ken
        pagerduty_ack_duration: 3600
    rules:
      - id: ops_web
        name: web problems
        strategy: all_tags
        tags: [WEB, http]
        conditions: [Critical, warning]
        time_restriction_ical: |
          DTSTART;TZID=Europe/Rome:20240101T080000
          DURATION:PT10H
          RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
        media: [ops_email, ops_pd]
      - id: ops_quiet
        enabled: false
        blackhole: true
        strategy: no_tag
        media: [ops_pd]
  - id: dev
    tags: [Nights, dev]
    media:
      - {id: dev_hook, transport: webhook, address: "https://hooks.example.com/dev"}
    rules:
      - {id: dev_all, strategy: global, media: [dev_hook]}
`

func TestParseAndApply(t *testing.T) {
	ctx := context.Background()
	d, err := setup.Parse([]byte(valid), "setup.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(d.Checks) != 2 || len(d.Contacts) != 2 {
		t.Fatalf("parsed %d checks and %d contacts, want 2 and 2", len(d.Checks), len(d.Contacts))
	}
	if d.Checks[0].Line != 3 || d.Contacts[0].Line != 11 || d.Contacts[0].Media[1].Line != 16 || d.Contacts[0].Rules[1].Line != 33 {
		t.Errorf("lines: check %d, contact %d, medium %d, rule %d; want 3, 11, 16, 33",
			d.Checks[0].Line, d.Contacts[0].Line, d.Contacts[0].Media[1].Line, d.Contacts[0].Rules[1].Line)
	}

	st := memory.New()
	defer st.Close()
	if err := d.Apply(ctx, st); err != nil {
		t.Fatalf("Apply: %v", err)
	}

	web, err := st.Check(ctx, "web-01:HTTP")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(web.Tags, []string{"http", "web"}) || !web.Enabled ||
		web.InitialFailureDelay != nil || web.RepeatFailureDelay != nil || web.InitialRecoveryDelay != nil {
		t.Errorf("web-01:HTTP = tags %q enabled %v delays %v %v %v; want tags [http web] (lower-cased, sorted, once), enabled, no delays",
			web.Tags, web.Enabled, web.InitialFailureDelay, web.RepeatFailureDelay, web.InitialRecoveryDelay)
	}
	db, err := st.Check(ctx, "db-01:disk")
	if err != nil {
		t.Fatal(err)
	}
	if db.Enabled || db.Tags != nil || ptr(db.InitialFailureDelay) != 0 || ptr(db.RepeatFailureDelay) != 300 || ptr(db.InitialRecoveryDelay) != 15 {
		t.Errorf("db-01:disk = tags %q enabled %v delays %d %d %d; want no tags, disabled, delays 0 300 15",
			db.Tags, db.Enabled, ptr(db.InitialFailureDelay), ptr(db.RepeatFailureDelay), ptr(db.InitialRecoveryDelay))
	}

	rt, err := st.Routing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantContacts := map[string]flapjack.Contact{
		"ops": {ID: "ops", Name: "Ops on call", Timezone: "Europe/Rome"},
		"dev": {ID: "dev", Tags: []string{"dev", "nights"}},
	}
	if len(rt.Contacts) != len(wantContacts) {
		t.Errorf("%d contacts stored, want %d", len(rt.Contacts), len(wantContacts))
	}
	for id, want := range wantContacts {
		if got := rt.Contacts[id]; got == nil || !reflect.DeepEqual(*got, want) {
			t.Errorf("contact %s = %+v, want %+v", id, got, want)
		}
	}
	wantMedia := map[string]flapjack.Medium{
		"ops_email": {ID: "ops_email", ContactID: "ops", Transport: "email", Address: "ops@example.com", Interval: 900, RollupThreshold: 3},
		"ops_pd": {ID: "ops_pd", ContactID: "ops", Transport: "pagerduty", Address: "ops-service-key",
			PagerdutySubdomain: "example", PagerdutyToken: "t0ken", PagerdutyAckDuration: 3600},
		"dev_hook": {ID: "dev_hook", ContactID: "dev", Transport: "webhook", Address: "https://hooks.example.com/dev"},
	}
	if len(rt.Media) != len(wantMedia) {
		t.Errorf("%d media stored, want %d", len(rt.Media), len(wantMedia))
	}
	for id, want := range wantMedia {
		if got := rt.Media[id]; got == nil || *got != want {
			t.Errorf("medium %s = %+v, want %+v", id, got, want)
		}
	}
	wantRules := []flapjack.Rule{
		{ID: "dev_all", ContactID: "dev", Enabled: true, Strategy: flapjack.Global, MediaIDs: []string{"dev_hook"}},
		{ID: "ops_quiet", ContactID: "ops", Enabled: false, Blackhole: true, Strategy: flapjack.NoTag, MediaIDs: []string{"ops_pd"}},
		{ID: "ops_web", ContactID: "ops", Name: "web problems", Enabled: true, Strategy: flapjack.AllTags,
			Tags: []string{"http", "web"}, Conditions: []flapjack.Condition{flapjack.Critical, flapjack.Warning},
			TimeRestrictionICal: "DTSTART;TZID=Europe/Rome:20240101T080000\nDURATION:PT10H\nRRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR\n",
			MediaIDs:            []string{"ops_email", "ops_pd"}},
	}
	if len(rt.Rules) != len(wantRules) {
		t.Fatalf("%d rules stored, want %d", len(rt.Rules), len(wantRules))
	}
	for i, want := range wantRules {
		got := *rt.Rules[i]
		if len(got.Conditions) == 0 {
			got.Conditions = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("rule %d =\n  %+v\nwant\n  %+v", i, got, want)
		}
	}
}

func TestApplyUpdatesExistingCheck(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()
	apply := func(text string) {
		t.Helper()
		d, err := setup.Parse([]byte(text), "setup.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Apply(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	apply("checks: [{name: a, tags: [x], enabled: false, initial_failure_delay: 5}]")
	first, _ := st.Check(ctx, "a")
	apply("checks: [{name: a, tags: [Y]}]")
	c, err := st.Check(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != first.ID || !reflect.DeepEqual(c.Tags, []string{"y"}) || !c.Enabled || c.InitialFailureDelay != nil {
		t.Errorf("after the second set-up: %+v; want the same check with tags [y], enabled, no delay", c)
	}
}

func TestEmptyData(t *testing.T) {
	for _, text := range []string{"", "\n", "# nothing yet\n", "checks: []\ncontacts: []\n"} {
		d, err := setup.Parse([]byte(text), "setup.yaml")
		if err != nil || len(d.Checks) != 0 || len(d.Contacts) != 0 {
			t.Errorf("Parse(%q) = %+v, %v; want empty data", text, d, err)
		}
	}
}

// TestProblems checks every validation rule, each with the line it concerns, and
// that all problems of a file are reported together.
func TestProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string
	}{{
		name: "check without a name",
		text: "checks:\n  - tags: [a]\n",
		want: []string{`setup.yaml:2: check: name is required`},
	}, {
		name: "check defined twice",
		text: "checks:\n  - name: a\n  - name: a\n",
		want: []string{`setup.yaml:3: check "a": defined twice`},
	}, {
		name: "check with a bad tag and negative delays",
		text: "checks:\n  - name: a\n    tags: [\"bad tag\", \"a:b\"]\n    initial_failure_delay: -1\n    repeat_failure_delay: -2\n    initial_recovery_delay: -3\n",
		want: []string{
			`setup.yaml:2: check "a": tag "bad tag" may hold only letters, digits and - _ . |`,
			`setup.yaml:2: check "a": tag "a:b" may hold only letters, digits and - _ . |`,
			`setup.yaml:2: check "a": initial_failure_delay must be 0 or more, not -1`,
			`setup.yaml:2: check "a": repeat_failure_delay must be 0 or more, not -2`,
			`setup.yaml:2: check "a": initial_recovery_delay must be 0 or more, not -3`,
		},
	}, {
		name: "ids shared by a contact, a medium and a rule",
		text: `contacts:
  - id: x
    media:
      - {id: x, transport: email, address: a@example.com}
      - {id: m, transport: email, address: b@example.com}
    rules:
      - {id: m, strategy: global}
  - id: m
`,
		want: []string{
			`setup.yaml:4: medium "x": id already used by a contact`,
			`setup.yaml:7: rule "m": id already used by a medium`,
			`setup.yaml:8: contact "m": id already used by a medium`,
		},
	}, {
		name: "duplicate ids across contacts",
		text: `contacts:
  - id: a
    media: [{id: a_email, transport: email, address: a@example.com}]
    rules: [{id: r, strategy: global}]
  - id: b
    media: [{id: a_email, transport: email, address: b@example.com}]
    rules: [{id: r, strategy: global}]
  - id: a
`,
		want: []string{
			`setup.yaml:6: medium "a_email": id already used by a medium`,
			`setup.yaml:7: rule "r": id already used by a rule`,
			`setup.yaml:8: contact "a": id already used by a contact`,
		},
	}, {
		name: "missing ids",
		text: "contacts:\n  - name: Nobody\n    media: [{transport: email, address: a@example.com}]\n    rules: [{strategy: global}]\n",
		want: []string{
			`setup.yaml:2: contact: id is required`,
			`setup.yaml:3: medium: id is required`,
			`setup.yaml:4: rule: id is required`,
		},
	}, {
		name: "unknown time zone",
		text: "contacts:\n  - id: a\n    timezone: Mars/Olympus\n",
		want: []string{`setup.yaml:2: contact "a": unknown time zone "Mars/Olympus"`},
	}, {
		name: "medium problems",
		text: `contacts:
  - id: a
    media:
      - {id: m1, transport: carrier_pigeon, address: loft}
      - {id: m2, address: x}
      - {id: m3, transport: email, address: "  "}
      - {id: m4, transport: email, address: a@example.com, interval: -1}
      - {id: m5, transport: email, address: a@example.com, rollup_threshold: -2}
`,
		want: []string{
			`setup.yaml:4: medium "m1": unknown transport "carrier_pigeon"`,
			`setup.yaml:5: medium "m2": transport is required`,
			`setup.yaml:6: medium "m3": address is required`,
			`setup.yaml:7: medium "m4": interval must be 0 or more seconds, not -1`,
			`setup.yaml:8: medium "m5": rollup_threshold must be positive or absent, not -2`,
		},
	}, {
		name: "pagerduty settings",
		text: `contacts:
  - id: a
    media:
      - {id: pd, transport: pagerduty, address: key, rollup_threshold: 5, pagerduty_ack_duration: -1}
      - {id: mail, transport: email, address: a@example.com, pagerduty_subdomain: example}
      - {id: sms, transport: sms, address: "+61400000000", pagerduty_token: t}
      - {id: hook, transport: webhook, address: "https://x", pagerduty_ack_duration: 60}
`,
		want: []string{
			`setup.yaml:4: medium "pd": pagerduty media cannot roll up`,
			`setup.yaml:4: medium "pd": pagerduty_ack_duration must be positive`,
			`setup.yaml:5: medium "mail": pagerduty_* settings are only for pagerduty media`,
			`setup.yaml:6: medium "sms": pagerduty_* settings are only for pagerduty media`,
			`setup.yaml:7: medium "hook": pagerduty_* settings are only for pagerduty media`,
		},
	}, {
		name: "rule problems",
		text: `contacts:
  - id: a
    media: [{id: a_email, transport: email, address: a@example.com}]
    rules:
      - {id: r1, strategy: some_tags}
      - {id: r2}
      - {id: r3, strategy: any_tag, tags: ["no spaces", ok_tag]}
      - {id: r4, strategy: global, conditions: [ok, bogus, CRITICAL]}
      - {id: r5, strategy: global, time_restriction_ical: "garbage"}
      - {id: r6, strategy: global, media: [a_email, b_email, nowhere]}
  - id: b
    tags: [ok, "bad tag"]
    media: [{id: b_email, transport: email, address: b@example.com}]
`,
		want: []string{
			`setup.yaml:5: rule "r1": unknown strategy "some_tags" (want global, any_tag, all_tags or no_tag)`,
			`setup.yaml:6: rule "r2": strategy is required (global, any_tag, all_tags or no_tag)`,
			`setup.yaml:7: rule "r3": tag "no spaces" may hold only letters, digits and - _ . |`,
			`setup.yaml:8: rule "r4": condition "ok" is not one of critical, warning, unknown`,
			`setup.yaml:8: rule "r4": condition "bogus" is not one of critical, warning, unknown`,
			`setup.yaml:9: rule "r5": time restriction: malformed iCalendar: ical: malformed content line: missing colon`,
			`setup.yaml:10: rule "r6": medium "b_email" is not one of its contact's media`,
			`setup.yaml:10: rule "r6": medium "nowhere" is not one of its contact's media`,
			`setup.yaml:11: contact "b": tag "bad tag" may hold only letters, digits and - _ . |`,
		},
	}, {
		name: "unknown keys at every level",
		text: `chekcs: []
contacts:
  - id: a
    emial: a@example.com
    media:
      - id: m
        transport: email
        adress: a@example.com
    rules:
      - id: r
        stratgy: global
`,
		want: []string{
			`setup.yaml:1: unknown key "chekcs" (known: checks, contacts)`,
			`setup.yaml:4: unknown key "emial" (known: id, name, timezone, tags, media, rules)`,
			`setup.yaml:8: unknown key "adress" (known: id, transport, address, interval, rollup_threshold, pagerduty_subdomain, pagerduty_token, pagerduty_ack_duration)`,
			`setup.yaml:11: unknown key "stratgy" (known: id, name, enabled, blackhole, strategy, tags, conditions, time_restriction_ical, media)`,
		},
	}, {
		name: "wrong types",
		text: `checks:
  - name: a
    enabled: maybe
    initial_failure_delay: soon
contacts:
  - id: a
    media:
      - id: m
        transport: email
        address: a@example.com
        interval: [1]
`,
		want: []string{
			"setup.yaml:3: cannot unmarshal !!str `maybe` into bool",
			"setup.yaml:4: cannot unmarshal !!str `soon` into int64",
			"setup.yaml:11: cannot unmarshal !!seq into int64",
		},
	}, {
		name: "unknown key beside a wrong type",
		text: "contacts:\n  - id: a\n    media:\n      - {id: m, transport: email, address: x, interval: abc}\n    nmae: A\n",
		want: []string{
			"setup.yaml:4: cannot unmarshal !!str `abc` into int64",
			`setup.yaml:5: unknown key "nmae" (known: id, name, timezone, tags, media, rules)`,
		},
	}, {
		name: "a list where a mapping belongs",
		text: "contacts:\n  - [a, b]\n",
		want: []string{`setup.yaml:2: expected a mapping of id, name, timezone, tags, media, rules`},
	}, {
		name: "a scalar document",
		text: "just text\n",
		want: []string{`setup.yaml:1: expected a mapping of checks, contacts`},
	}, {
		name: "checks not a list",
		text: "checks: 3\n",
		want: []string{"setup.yaml:1: cannot unmarshal !!int `3` into []setup.Check"},
	}, {
		name: "YAML syntax",
		text: "checks: []\ncontacts: [\n",
		want: []string{`setup.yaml:2: did not find expected node content`},
	}, {
		name: "key written twice",
		text: "checks: []\nchecks: []\n",
		want: []string{`setup.yaml:2: mapping key "checks" already defined at line 1`},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := setup.Parse([]byte(tc.text), "setup.yaml")
			var se *setup.Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse error %v (%T), want a *setup.Error", err, err)
			}
			if se.File != "setup.yaml" {
				t.Errorf("Error.File = %q, want setup.yaml", se.File)
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("error:\n%s\nwant:\n%s", err, strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	e := &setup.Error{}
	if e.Err() != nil {
		t.Fatal("Err() of an empty Error must be nil")
	}
	e.Add(3, "three %d", 3)
	e.Add(0, "no line")
	if got, want := e.Error(), "line 3: three 3\nno line"; got != want {
		t.Errorf("without a file: %q, want %q", got, want)
	}
	e.File = "f.yaml"
	if got, want := e.Err().Error(), "f.yaml:3: three 3\nf.yaml: no line"; got != want {
		t.Errorf("with a file: %q, want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "setup.yaml")
	if err := os.WriteFile(path, []byte(valid), 0o600); err != nil {
		t.Fatal(err)
	}
	if d, err := setup.Load(path); err != nil || len(d.Contacts) != 2 {
		t.Errorf("Load = %v, %v", d, err)
	}
	if err := os.WriteFile(path, []byte("contacts:\n  - id: a\n    timezone: Nowhere\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Load(path); err == nil || err.Error() != path+`:2: contact "a": unknown time zone "Nowhere"` {
		t.Errorf("Load of an invalid file: %v", err)
	}
	if _, err := setup.Load(filepath.Join(dir, "missing.yaml")); !os.IsNotExist(err) {
		t.Errorf("Load of a missing file: %v, want a not-exist error", err)
	}
}

// FuzzParse checks that no input makes Parse panic, that every error it returns is
// a *setup.Error with at least one problem, and that whatever it accepts can be
// applied to a store.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		valid, "", "~", "[]", "checks: 3", "checks: [{name: a}]",
		"contacts: [{id: a, media: [{id: m, transport: log, address: x}], rules: [{id: r, strategy: global, media: [m]}]}]",
		"contacts:\n  - id: a\n    rules:\n      - {id: r, strategy: global, time_restriction_ical: \"DTSTART:20240101T000000Z\\nDURATION:PT1H\"}\n",
		"a: &x [*x]", "a: b: c", "contacts: [\n", "{checks: [{name: a, tags: [A, a]}], contacts: []}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := setup.Parse(data, "fuzz.yaml")
		if err != nil {
			var se *setup.Error
			if !errors.As(err, &se) || len(se.Problems) == 0 || err.Error() == "" {
				t.Fatalf("Parse(%q) error %v (%T), want a *setup.Error with problems", data, err, err)
			}
			return
		}
		st := memory.New()
		defer st.Close()
		if err := d.Apply(context.Background(), st); err != nil {
			t.Fatalf("Parse(%q) accepted data that Apply refuses: %v", data, err)
		}
	})
}

func ptr(n *int64) int64 {
	if n == nil {
		return -1
	}
	return *n
}
