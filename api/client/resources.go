package client

import (
	"context"
	"encoding/json"
	"net/http"
)

// attrs marshals v (a struct of attributes) into a JSON object.
func attrs(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// Check is a check. Name, Enabled and the delays are writable; the rest is
// computed by the server.
type Check struct {
	ID                   string `json:"-"`
	Name                 string `json:"name"`
	Enabled              bool   `json:"enabled"`
	InitialFailureDelay  *int64 `json:"initial_failure_delay"`
	RepeatFailureDelay   *int64 `json:"repeat_failure_delay"`
	InitialRecoveryDelay *int64 `json:"initial_recovery_delay"`
	Failing              bool   `json:"failing"`
	Condition            string `json:"condition"`
	AckHash              string `json:"ack_hash"`
	// Tags are the check's tags: sent on create, and read when the answer
	// carries the linkage (Include "tags").
	Tags []string `json:"-"`
	// Relationships holds the linkage the answer carried, by relationship.
	Relationships map[string][]string `json:"-"`
}

func (c *Check) fill(id string, rels map[string][]string) {
	c.ID, c.Relationships, c.Tags = id, rels, rels["tags"]
}

func (c *Check) wire() (wireObject, error) {
	o := wireObject{Type: "check", ID: c.ID, Attributes: attrs(struct {
		Name                 string `json:"name"`
		Enabled              bool   `json:"enabled"`
		InitialFailureDelay  *int64 `json:"initial_failure_delay,omitempty"`
		RepeatFailureDelay   *int64 `json:"repeat_failure_delay,omitempty"`
		InitialRecoveryDelay *int64 `json:"initial_recovery_delay,omitempty"`
	}{c.Name, c.Enabled, c.InitialFailureDelay, c.RepeatFailureDelay, c.InitialRecoveryDelay})}
	if len(c.Tags) > 0 {
		o.Relationships = map[string]wireRel{"tags": toMany("tag", c.Tags)}
	}
	return o, nil
}

// CheckService manages /checks.
type CheckService struct{ service[Check, *Check] }

// Create creates a check; its id is assigned by the server from its name
// unless c.ID is set.
func (s *CheckService) Create(ctx context.Context, c *Check) (*Check, error) {
	return createOne(ctx, s.service, c)
}

// CreateMany creates several checks in one request (JSON:API bulk extension).
func (s *CheckService) CreateMany(ctx context.Context, cs []*Check) ([]*Check, error) {
	return createMany(ctx, s.service, cs)
}

// Update changes the attributes of the check id, such as
// Attrs{"enabled": false}.
func (s *CheckService) Update(ctx context.Context, id string, a Attrs) error {
	return s.update(ctx, "check", id, a, nil)
}

// AddTags tags the check id with tags (creating the tags as needed).
func (s *CheckService) AddTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodPost, id, "tags", "tag", tags)
}

// SetTags replaces the tags of the check id.
func (s *CheckService) SetTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodPatch, id, "tags", "tag", tags)
}

// RemoveTags removes tags from the check id.
func (s *CheckService) RemoveTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodDelete, id, "tags", "tag", tags)
}

// LatestNotifications returns the states of the latest notifications of the
// check id, one per condition and one per action, the newest first.
func (s *CheckService) LatestNotifications(ctx context.Context, id string) ([]State, error) {
	return related(ctx, s.service, id, "latest_notifications", s.c.States.service, nil)
}

// Contact is a person or team notified through media.
type Contact struct {
	ID   string `json:"-"`
	Name string `json:"name"`
	// Timezone is an IANA zone name; empty for none.
	Timezone string `json:"timezone,omitempty"`
	// Tags are the contact's tags: sent on create, and read when the answer
	// carries the linkage (Include "tags").
	Tags []string `json:"-"`
	// Relationships holds the linkage the answer carried (Include "media",
	// "rules", "checks", "tags").
	Relationships map[string][]string `json:"-"`
}

func (c *Contact) fill(id string, rels map[string][]string) {
	c.ID, c.Relationships, c.Tags = id, rels, rels["tags"]
}

func (c *Contact) wire() (wireObject, error) {
	o := wireObject{Type: "contact", ID: c.ID, Attributes: attrs(struct {
		Name     string `json:"name"`
		Timezone string `json:"timezone,omitempty"`
	}{c.Name, c.Timezone})}
	if len(c.Tags) > 0 {
		o.Relationships = map[string]wireRel{"tags": toMany("tag", c.Tags)}
	}
	return o, nil
}

// ContactService manages /contacts.
type ContactService struct{ service[Contact, *Contact] }

// Create creates a contact; the server assigns an id unless c.ID is set.
func (s *ContactService) Create(ctx context.Context, c *Contact) (*Contact, error) {
	return createOne(ctx, s.service, c)
}

// CreateMany creates several contacts in one request.
func (s *ContactService) CreateMany(ctx context.Context, cs []*Contact) ([]*Contact, error) {
	return createMany(ctx, s.service, cs)
}

// Update changes attributes of the contact id: Attrs{"name": "…"}.
func (s *ContactService) Update(ctx context.Context, id string, a Attrs) error {
	return s.update(ctx, "contact", id, a, nil)
}

// DeleteMany deletes several contacts, with their media and rules, in one request.
func (s *ContactService) DeleteMany(ctx context.Context, ids ...string) error {
	return s.deleteMany(ctx, "contact", ids)
}

// AddTags tags the contact id with tags (creating the tags as needed).
func (s *ContactService) AddTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodPost, id, "tags", "tag", tags)
}

// SetTags replaces the tags of the contact id.
func (s *ContactService) SetTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodPatch, id, "tags", "tag", tags)
}

// RemoveTags removes tags from the contact id.
func (s *ContactService) RemoveTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodDelete, id, "tags", "tag", tags)
}

// Medium is a way to reach a contact: an email address, a phone number…
type Medium struct {
	ID string `json:"-"`
	// ContactID is the owner; required on create.
	ContactID string `json:"-"`
	// Transport is one of email, jabber, pagerduty, sms, slack, sms_twilio,
	// sms_nexmo, sms_aspsms, sns, threema.
	Transport string `json:"transport"`
	Address   string `json:"address"`
	// Interval is the seconds between repeated alerts; required but for pagerduty.
	Interval int64 `json:"interval"`
	// RollupThreshold, when not 0, rolls alerts up above that many failing checks.
	RollupThreshold      int64  `json:"rollup_threshold,omitempty"`
	PagerdutySubdomain   string `json:"pagerduty_subdomain,omitempty"`
	PagerdutyToken       string `json:"pagerduty_token,omitempty"`
	PagerdutyAckDuration int64  `json:"pagerduty_ack_duration,omitempty"`
	// Relationships holds the linkage the answer carried (Include "contact",
	// "rules", "alerting_checks").
	Relationships map[string][]string `json:"-"`
}

func (m *Medium) fill(id string, rels map[string][]string) {
	m.ID, m.Relationships = id, rels
	if c := rels["contact"]; len(c) == 1 {
		m.ContactID = c[0]
	}
}

func (m *Medium) wire() (wireObject, error) {
	o := wireObject{Type: "medium", ID: m.ID, Attributes: attrs(m)}
	if m.ContactID != "" {
		o.Relationships = map[string]wireRel{"contact": toOne("contact", m.ContactID)}
	}
	return o, nil
}

// MediumService manages /media.
type MediumService struct{ service[Medium, *Medium] }

// Create creates a medium of m.ContactID.
func (s *MediumService) Create(ctx context.Context, m *Medium) (*Medium, error) {
	return createOne(ctx, s.service, m)
}

// CreateMany creates several media in one request.
func (s *MediumService) CreateMany(ctx context.Context, ms []*Medium) ([]*Medium, error) {
	return createMany(ctx, s.service, ms)
}

// Update changes attributes of the medium id: Attrs{"interval": 60}.
func (s *MediumService) Update(ctx context.Context, id string, a Attrs) error {
	return s.update(ctx, "medium", id, a, nil)
}

// DeleteMany deletes several media in one request.
func (s *MediumService) DeleteMany(ctx context.Context, ids ...string) error {
	return s.deleteMany(ctx, "medium", ids)
}

// AddRules links the medium id to rules.
func (s *MediumService) AddRules(ctx context.Context, id string, rules ...string) error {
	return s.link(ctx, http.MethodPost, id, "rules", "rule", rules)
}

// SetRules replaces the rules of the medium id.
func (s *MediumService) SetRules(ctx context.Context, id string, rules ...string) error {
	return s.link(ctx, http.MethodPatch, id, "rules", "rule", rules)
}

// RemoveRules unlinks rules from the medium id.
func (s *MediumService) RemoveRules(ctx context.Context, id string, rules ...string) error {
	return s.link(ctx, http.MethodDelete, id, "rules", "rule", rules)
}

// Rule routes the alerts of checks to media of its contact.
type Rule struct {
	ID string `json:"-"`
	// ContactID is the owner; required on create, fixed after.
	ContactID string `json:"-"`
	// MediaIDs are the media alerted; Tags the tags the strategy matches. Both are
	// sent on create and read when the answer carries their linkage.
	MediaIDs []string `json:"-"`
	Tags     []string `json:"-"`
	Name     string   `json:"name,omitempty"`
	Enabled  bool     `json:"enabled"`
	// Blackhole rules drop the alerts they match.
	Blackhole bool `json:"blackhole"`
	// Strategy is global, any_tag, all_tags or no_tag.
	Strategy string `json:"strategy"`
	// ConditionsList is a comma-separated list of critical, warning and unknown;
	// empty for all.
	ConditionsList      string `json:"conditions_list,omitempty"`
	TimeRestrictionICal string `json:"time_restriction_ical,omitempty"`
	// Relationships holds the linkage the answer carried.
	Relationships map[string][]string `json:"-"`
}

func (r *Rule) fill(id string, rels map[string][]string) {
	r.ID, r.Relationships = id, rels
	if c := rels["contact"]; len(c) == 1 {
		r.ContactID = c[0]
	}
	if m, ok := rels["media"]; ok {
		r.MediaIDs = m
	}
	if t, ok := rels["tags"]; ok {
		r.Tags = t
	}
}

func (r *Rule) wire() (wireObject, error) {
	o := wireObject{Type: "rule", ID: r.ID, Attributes: attrs(r), Relationships: map[string]wireRel{}}
	if r.ContactID != "" {
		o.Relationships["contact"] = toOne("contact", r.ContactID)
	}
	if len(r.MediaIDs) > 0 {
		o.Relationships["media"] = toMany("medium", r.MediaIDs)
	}
	if len(r.Tags) > 0 {
		o.Relationships["tags"] = toMany("tag", r.Tags)
	}
	return o, nil
}

// RuleService manages /rules.
type RuleService struct{ service[Rule, *Rule] }

// Create creates a rule of r.ContactID.
func (s *RuleService) Create(ctx context.Context, r *Rule) (*Rule, error) {
	return createOne(ctx, s.service, r)
}

// CreateMany creates several rules in one request.
func (s *RuleService) CreateMany(ctx context.Context, rs []*Rule) ([]*Rule, error) {
	return createMany(ctx, s.service, rs)
}

// Update changes attributes of the rule id: Attrs{"enabled": false}.
func (s *RuleService) Update(ctx context.Context, id string, a Attrs) error {
	return s.update(ctx, "rule", id, a, nil)
}

// DeleteMany deletes several rules in one request.
func (s *RuleService) DeleteMany(ctx context.Context, ids ...string) error {
	return s.deleteMany(ctx, "rule", ids)
}

// AddMedia links the rule id to media.
func (s *RuleService) AddMedia(ctx context.Context, id string, media ...string) error {
	return s.link(ctx, http.MethodPost, id, "media", "medium", media)
}

// SetMedia replaces the media of the rule id.
func (s *RuleService) SetMedia(ctx context.Context, id string, media ...string) error {
	return s.link(ctx, http.MethodPatch, id, "media", "medium", media)
}

// RemoveMedia unlinks media from the rule id.
func (s *RuleService) RemoveMedia(ctx context.Context, id string, media ...string) error {
	return s.link(ctx, http.MethodDelete, id, "media", "medium", media)
}

// AddTags adds tags to the rule id.
func (s *RuleService) AddTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodPost, id, "tags", "tag", tags)
}

// SetTags replaces the tags of the rule id.
func (s *RuleService) SetTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodPatch, id, "tags", "tag", tags)
}

// RemoveTags removes tags from the rule id.
func (s *RuleService) RemoveTags(ctx context.Context, id string, tags ...string) error {
	return s.link(ctx, http.MethodDelete, id, "tags", "tag", tags)
}

// Tag is a tag of checks, contacts and rules; its id is its name. A tag exists
// only while a check, a contact or a rule carries it.
type Tag struct {
	ID   string `json:"-"`
	Name string `json:"name"`
	// CheckIDs, ContactIDs and RuleIDs are the checks, contacts and rules the
	// tag is created on: at least one is required.
	CheckIDs   []string `json:"-"`
	ContactIDs []string `json:"-"`
	RuleIDs    []string `json:"-"`
	// Relationships holds the linkage the answer carried (Include "checks",
	// "contacts", "rules").
	Relationships map[string][]string `json:"-"`
}

func (t *Tag) fill(id string, rels map[string][]string) { t.ID, t.Relationships = id, rels }

func (t *Tag) wire() (wireObject, error) {
	o := wireObject{Type: "tag", Attributes: attrs(struct {
		Name string `json:"name"`
	}{t.Name}), Relationships: map[string]wireRel{}}
	if len(t.CheckIDs) > 0 {
		o.Relationships["checks"] = toMany("check", t.CheckIDs)
	}
	if len(t.ContactIDs) > 0 {
		o.Relationships["contacts"] = toMany("contact", t.ContactIDs)
	}
	if len(t.RuleIDs) > 0 {
		o.Relationships["rules"] = toMany("rule", t.RuleIDs)
	}
	return o, nil
}

// TagService manages /tags.
type TagService struct{ service[Tag, *Tag] }

// Create creates a tag named t.Name on t.CheckIDs and t.RuleIDs.
func (s *TagService) Create(ctx context.Context, t *Tag) (*Tag, error) {
	return createOne(ctx, s.service, t)
}

// AddChecks tags checks with the tag id.
func (s *TagService) AddChecks(ctx context.Context, id string, checks ...string) error {
	return s.link(ctx, http.MethodPost, id, "checks", "check", checks)
}

// SetChecks makes checks the only checks of the tag id.
func (s *TagService) SetChecks(ctx context.Context, id string, checks ...string) error {
	return s.link(ctx, http.MethodPatch, id, "checks", "check", checks)
}

// RemoveChecks untags checks.
func (s *TagService) RemoveChecks(ctx context.Context, id string, checks ...string) error {
	return s.link(ctx, http.MethodDelete, id, "checks", "check", checks)
}

// AddRules adds the tag id to rules.
func (s *TagService) AddRules(ctx context.Context, id string, rules ...string) error {
	return s.link(ctx, http.MethodPost, id, "rules", "rule", rules)
}

// SetRules makes rules the only rules of the tag id.
func (s *TagService) SetRules(ctx context.Context, id string, rules ...string) error {
	return s.link(ctx, http.MethodPatch, id, "rules", "rule", rules)
}

// RemoveRules removes the tag id from rules.
func (s *TagService) RemoveRules(ctx context.Context, id string, rules ...string) error {
	return s.link(ctx, http.MethodDelete, id, "rules", "rule", rules)
}

// AddContacts tags contacts with the tag id.
func (s *TagService) AddContacts(ctx context.Context, id string, contacts ...string) error {
	return s.link(ctx, http.MethodPost, id, "contacts", "contact", contacts)
}

// SetContacts makes contacts the only contacts of the tag id.
func (s *TagService) SetContacts(ctx context.Context, id string, contacts ...string) error {
	return s.link(ctx, http.MethodPatch, id, "contacts", "contact", contacts)
}

// RemoveContacts untags contacts.
func (s *TagService) RemoveContacts(ctx context.Context, id string, contacts ...string) error {
	return s.link(ctx, http.MethodDelete, id, "contacts", "contact", contacts)
}

// States returns one page of the states of every check tagged id, the newest
// first. opts may set Page, PerPage and Filter ("condition:critical").
func (s *TagService) States(ctx context.Context, id string, opts *ListOptions) ([]State, error) {
	return related(ctx, s.service, id, "states", s.c.States.service, opts)
}

// ScheduledMaintenances returns one page of the scheduled maintenances of
// every check tagged id, the latest start first. opts may set Page, PerPage
// and Filter.
func (s *TagService) ScheduledMaintenances(ctx context.Context, id string, opts *ListOptions) ([]Maintenance, error) {
	return related(ctx, s.service, id, "scheduled_maintenances", s.c.ScheduledMaintenances.service, opts)
}

// UnscheduledMaintenances returns one page of the unscheduled maintenances
// (acknowledgements) of every check tagged id, the latest start first. opts
// may set Page, PerPage and Filter.
func (s *TagService) UnscheduledMaintenances(ctx context.Context, id string, opts *ListOptions) ([]Maintenance, error) {
	return related(ctx, s.service, id, "unscheduled_maintenances", s.c.UnscheduledMaintenances.service, opts)
}
