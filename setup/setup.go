// Package setup reads Flapjack's set-up data — checks, contacts with their media and
// rules — from YAML (or JSON, which is YAML) and loads it into a store. The same
// schema is the set-up part of a rule-test file and the data file the daemon loads
// at start.
//
//	checks:
//	  - name: "foo:ping"
//	    tags: [foo, ping]
//	contacts:
//	  - id: malak
//	    name: Malak
//	    timezone: Asia/Baghdad
//	    media:
//	      - {id: malak_email, transport: email, address: malak@example.com, interval: 900}
//	    rules:
//	      - {id: malak_email_t, strategy: all_tags, tags: [foo, ping], media: [malak_email]}
//
// Every problem is reported at once, each with the line it concerns.
package setup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/x/flapjack"
	"github.com/x/flapjack/notifier/restriction"
	"github.com/x/flapjack/store"
)

// Data is a set of checks and contacts.
type Data struct {
	Checks   []Check   `yaml:"checks"`
	Contacts []Contact `yaml:"contacts"`
}

// Check is a check that exists before any event names it.
type Check struct {
	Name                 string   `yaml:"name"`
	Tags                 []string `yaml:"tags"`
	Enabled              *bool    `yaml:"enabled"` // default true
	InitialFailureDelay  *int64   `yaml:"initial_failure_delay"`
	RepeatFailureDelay   *int64   `yaml:"repeat_failure_delay"`
	InitialRecoveryDelay *int64   `yaml:"initial_recovery_delay"`
	Line                 int      `yaml:"-"`
}

// Contact is a person or team with media and rules.
type Contact struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Timezone string   `yaml:"timezone"`
	Tags     []string `yaml:"tags"`
	Media    []Medium `yaml:"media"`
	Rules    []Rule   `yaml:"rules"`
	Line     int      `yaml:"-"`
}

// Medium is an address of a contact on one transport.
type Medium struct {
	ID                   string `yaml:"id"`
	Transport            string `yaml:"transport"`
	Address              string `yaml:"address"`
	Interval             int64  `yaml:"interval"` // seconds
	RollupThreshold      int64  `yaml:"rollup_threshold"`
	PagerdutySubdomain   string `yaml:"pagerduty_subdomain"`
	PagerdutyToken       string `yaml:"pagerduty_token"`
	PagerdutyAckDuration int64  `yaml:"pagerduty_ack_duration"`
	Line                 int    `yaml:"-"`
}

// Rule routes some of a contact's checks to some of its media.
type Rule struct {
	ID                  string   `yaml:"id"`
	Name                string   `yaml:"name"`
	Enabled             *bool    `yaml:"enabled"` // default true
	Blackhole           bool     `yaml:"blackhole"`
	Strategy            string   `yaml:"strategy"`
	Tags                []string `yaml:"tags"`
	Conditions          []string `yaml:"conditions"` // empty: all
	TimeRestrictionICal string   `yaml:"time_restriction_ical"`
	Media               []string `yaml:"media"`
	Line                int      `yaml:"-"`
}

// UnmarshalYAML records the line and rejects unknown keys.
func (c *Check) UnmarshalYAML(n *yaml.Node) error {
	type plain Check
	c.Line = n.Line
	return StrictDecode(n, (*plain)(c))
}

// UnmarshalYAML records the line and rejects unknown keys.
func (c *Contact) UnmarshalYAML(n *yaml.Node) error {
	type plain Contact
	c.Line = n.Line
	return StrictDecode(n, (*plain)(c))
}

// UnmarshalYAML records the line and rejects unknown keys.
func (m *Medium) UnmarshalYAML(n *yaml.Node) error {
	type plain Medium
	m.Line = n.Line
	return StrictDecode(n, (*plain)(m))
}

// UnmarshalYAML records the line and rejects unknown keys.
func (r *Rule) UnmarshalYAML(n *yaml.Node) error {
	type plain Rule
	r.Line = n.Line
	return StrictDecode(n, (*plain)(r))
}

// tagPattern is what a tag name may look like: no colons, no spaces.
var tagPattern = regexp.MustCompile(`(?i)^[a-z0-9\-_.|]+$`)

// Transports lists the transports media may use. Programs adding a gateway for
// another transport add its name here.
var Transports = map[string]bool{
	"email": true, "jabber": true, "pagerduty": true, "sms": true, "slack": true,
	"sms_twilio": true, "sms_nexmo": true, "sms_aspsms": true, "sns": true,
	"threema": true, "webhook": true, "log": true,
}

// Error lists every problem found in set-up data.
type Error struct {
	// File names the source, when known.
	File     string
	Problems []Problem
}

// Problem is one thing wrong, at a line (0 when unknown).
type Problem struct {
	Line    int
	Message string
}

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		switch {
		case e.File != "" && p.Line > 0:
			fmt.Fprintf(&b, "%s:%d: ", e.File, p.Line)
		case e.File != "":
			fmt.Fprintf(&b, "%s: ", e.File)
		case p.Line > 0:
			fmt.Fprintf(&b, "line %d: ", p.Line)
		}
		b.WriteString(p.Message)
	}
	return b.String()
}

// Add records a problem.
func (e *Error) Add(line int, format string, args ...any) {
	e.Problems = append(e.Problems, Problem{Line: line, Message: fmt.Sprintf(format, args...)})
}

// Err returns e when it holds problems, else nil.
func (e *Error) Err() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// Parse reads set-up data and validates it. name is used in error messages.
func Parse(data []byte, name string) (*Data, error) {
	var d Data
	if err := DecodeYAML(data, name, &d); err != nil {
		return nil, err
	}
	if err := d.Validate(); err != nil {
		var se *Error
		if errors.As(err, &se) {
			se.File = name
		}
		return nil, err
	}
	return &d, nil
}

// Load reads and validates the set-up data file at path.
func Load(path string) (*Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b, path)
}

// DecodeYAML decodes one YAML document strictly (unknown keys are errors) into v,
// turning the decoder's errors into an *Error naming the file and lines.
func DecodeYAML(data []byte, name string, v any) error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return yamlError(err, name)
	}
	if root.Kind == 0 {
		return nil // empty document
	}
	if err := StrictDecode(&root, v); err != nil {
		return yamlError(err, name)
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func yamlError(err error, name string) error {
	e := &Error{File: name}
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if g := yamlLine.FindStringSubmatch(m); g != nil {
			var line int
			fmt.Sscan(g[1], &line)
			e.Add(line, "%s", g[2])
			continue
		}
		e.Add(0, "%s", m)
	}
	slices.SortStableFunc(e.Problems, func(a, b Problem) int { return a.Line - b.Line })
	return e
}

// Validate checks the data and reports every problem.
func (d *Data) Validate() error {
	e := &Error{}
	checks := map[string]bool{}
	for _, c := range d.Checks {
		switch {
		case strings.TrimSpace(c.Name) == "":
			e.Add(c.Line, "check: name is required")
		case checks[c.Name]:
			e.Add(c.Line, "check %q: defined twice", c.Name)
		}
		checks[c.Name] = true
		validateTags(e, c.Line, "check "+quote(c.Name), c.Tags)
		for _, d := range []struct {
			field string
			v     *int64
		}{
			{"initial_failure_delay", c.InitialFailureDelay},
			{"repeat_failure_delay", c.RepeatFailureDelay},
			{"initial_recovery_delay", c.InitialRecoveryDelay},
		} {
			if d.v != nil && *d.v < 0 {
				e.Add(c.Line, "check %q: %s must be 0 or more, not %d", c.Name, d.field, *d.v)
			}
		}
	}
	ids := map[string]string{} // every contact, medium and rule id → what it is
	unique := func(line int, kind, id string) {
		if strings.TrimSpace(id) == "" {
			e.Add(line, "%s: id is required", kind)
			return
		}
		if prev, ok := ids[id]; ok {
			e.Add(line, "%s %q: id already used by a %s", kind, id, prev)
			return
		}
		ids[id] = kind
	}
	for _, c := range d.Contacts {
		unique(c.Line, "contact", c.ID)
		if c.Timezone != "" {
			if _, err := time.LoadLocation(c.Timezone); err != nil {
				e.Add(c.Line, "contact %q: unknown time zone %q", c.ID, c.Timezone)
			}
		}
		validateTags(e, c.Line, "contact "+quote(c.ID), c.Tags)
		own := map[string]bool{}
		for _, m := range c.Media {
			unique(m.Line, "medium", m.ID)
			own[m.ID] = true
			validateMedium(e, m)
		}
		for _, r := range c.Rules {
			unique(r.Line, "rule", r.ID)
			validateRule(e, r, own)
		}
	}
	return e.Err()
}

func validateMedium(e *Error, m Medium) {
	what := "medium " + quote(m.ID)
	switch {
	case m.Transport == "":
		e.Add(m.Line, "%s: transport is required", what)
	case !Transports[m.Transport]:
		e.Add(m.Line, "%s: unknown transport %q", what, m.Transport)
	}
	if strings.TrimSpace(m.Address) == "" {
		e.Add(m.Line, "%s: address is required", what)
	}
	if m.Interval < 0 {
		e.Add(m.Line, "%s: interval must be 0 or more seconds, not %d", what, m.Interval)
	}
	if m.RollupThreshold < 0 {
		e.Add(m.Line, "%s: rollup_threshold must be positive or absent, not %d", what, m.RollupThreshold)
	}
	if m.Transport == "pagerduty" {
		if m.RollupThreshold != 0 {
			e.Add(m.Line, "%s: pagerduty media cannot roll up", what)
		}
	} else if m.PagerdutySubdomain != "" || m.PagerdutyToken != "" || m.PagerdutyAckDuration != 0 {
		e.Add(m.Line, "%s: pagerduty_* settings are only for pagerduty media", what)
	}
	if m.PagerdutyAckDuration < 0 {
		e.Add(m.Line, "%s: pagerduty_ack_duration must be positive", what)
	}
}

func validateRule(e *Error, r Rule, media map[string]bool) {
	what := "rule " + quote(r.ID)
	if _, err := flapjack.ParseStrategy(r.Strategy); err != nil {
		if r.Strategy == "" {
			e.Add(r.Line, "%s: strategy is required (global, any_tag, all_tags or no_tag)", what)
		} else {
			e.Add(r.Line, "%s: %v", what, err)
		}
	}
	validateTags(e, r.Line, what, r.Tags)
	for _, c := range r.Conditions {
		if cond, err := flapjack.ParseCondition(c); err != nil || !cond.Unhealthy() {
			e.Add(r.Line, "%s: condition %q is not one of critical, warning, unknown", what, c)
		}
	}
	if strings.TrimSpace(r.TimeRestrictionICal) != "" {
		if _, err := restriction.Parse(r.TimeRestrictionICal); err != nil {
			e.Add(r.Line, "%s: %v", what, err)
		}
	}
	for _, m := range r.Media {
		if !media[m] {
			e.Add(r.Line, "%s: medium %q is not one of its contact's media", what, m)
		}
	}
}

func validateTags(e *Error, line int, what string, tags []string) {
	for _, t := range tags {
		if !tagPattern.MatchString(t) {
			e.Add(line, "%s: tag %q may hold only letters, digits and - _ . |", what, t)
		}
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// Store is what Apply writes to.
type Store interface {
	UpdateCheck(ctx context.Context, name string, create bool, fn func(*store.CheckUpdate) error) (flapjack.Check, error)
	PutContact(ctx context.Context, c flapjack.Contact) error
	PutMedium(ctx context.Context, m flapjack.Medium) error
	PutRule(ctx context.Context, r flapjack.Rule) error
}

// Apply writes the data into s: checks are created or have their tags, enabled flag
// and delays set; contacts (with their tags), media and rules are created or
// replaced.
func (d *Data) Apply(ctx context.Context, s Store) error {
	for _, c := range d.Checks {
		_, err := s.UpdateCheck(ctx, c.Name, true, func(u *store.CheckUpdate) error {
			u.Check.Tags = normaliseTags(c.Tags)
			u.Check.Enabled = c.Enabled == nil || *c.Enabled
			u.Check.InitialFailureDelay = c.InitialFailureDelay
			u.Check.RepeatFailureDelay = c.RepeatFailureDelay
			u.Check.InitialRecoveryDelay = c.InitialRecoveryDelay
			return nil
		})
		if err != nil {
			return fmt.Errorf("set up check %q: %w", c.Name, err)
		}
	}
	for _, c := range d.Contacts {
		if err := s.PutContact(ctx, flapjack.Contact{ID: c.ID, Name: c.Name, Timezone: c.Timezone, Tags: normaliseTags(c.Tags)}); err != nil {
			return fmt.Errorf("set up contact %q: %w", c.ID, err)
		}
		for _, m := range c.Media {
			err := s.PutMedium(ctx, flapjack.Medium{
				ID: m.ID, ContactID: c.ID, Transport: m.Transport, Address: m.Address,
				Interval: m.Interval, RollupThreshold: m.RollupThreshold,
				PagerdutySubdomain: m.PagerdutySubdomain, PagerdutyToken: m.PagerdutyToken,
				PagerdutyAckDuration: m.PagerdutyAckDuration,
			})
			if err != nil {
				return fmt.Errorf("set up medium %q: %w", m.ID, err)
			}
		}
		for _, r := range c.Rules {
			conds := make([]flapjack.Condition, 0, len(r.Conditions))
			for _, s := range r.Conditions {
				cond, _ := flapjack.ParseCondition(s)
				conds = append(conds, cond)
			}
			err := s.PutRule(ctx, flapjack.Rule{
				ID: r.ID, ContactID: c.ID, Name: r.Name, Enabled: r.Enabled == nil || *r.Enabled,
				Blackhole: r.Blackhole, Strategy: flapjack.Strategy(r.Strategy), Tags: normaliseTags(r.Tags),
				Conditions: conds, TimeRestrictionICal: r.TimeRestrictionICal, MediaIDs: r.Media,
			})
			if err != nil {
				return fmt.Errorf("set up rule %q: %w", r.ID, err)
			}
		}
	}
	return nil
}

// normaliseTags lower-cases, sorts and de-duplicates tag names: tags match without
// regard to case.
func normaliseTags(tags []string) []string {
	if len(tags) == 0 {
		return nil
	}
	seen := map[string]bool{}
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		t = strings.ToLower(t)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sortStrings(out)
	return out
}
