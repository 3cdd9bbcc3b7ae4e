package api

import (
	"slices"
	"strings"

	"github.com/x/flapjack"
)

// attrDoc is what GET /doc says of one attribute of a resource beyond its name
// and kind, which come from the resource's attrSpec. Every attribute of every
// resource needs an entry in attrDocs (a test makes sure of it).
type attrDoc struct {
	desc string
	// create and update tell whether a POST or a PATCH body may carry the
	// attribute; neither makes it read-only. required is for create.
	create, update, required bool
	// null says that the attribute may be null in answers and that null is a
	// value requests may give: "none".
	null bool
	// schema holds JSON Schema keywords beyond the type the kind gives: enum,
	// minimum, pattern; for kOther attributes, the whole schema.
	schema jmap
	// example is a valid value. The examples of a create body together make a
	// valid record (a test posts them).
	example any
}

// attrRW is an attribute writable on create and update.
func attrRW(desc string) attrDoc { return attrDoc{desc: desc, create: true, update: true} }

// attrRO is a read-only attribute.
func attrRO(desc string) attrDoc { return attrDoc{desc: desc} }

func (d attrDoc) req() attrDoc      { d.required = true; return d }
func (d attrDoc) nullable() attrDoc { d.null = true; return d }
func (d attrDoc) eg(v any) attrDoc  { d.example = v; return d }
func (d attrDoc) with(k string, v any) attrDoc {
	s := jmap{k: v}
	for key, val := range d.schema {
		s[key] = val
	}
	d.schema = s
	return d
}

func enumOf[T ~string](vals ...T) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

var (
	conditionEnum = enumOf(flapjack.OK, flapjack.Critical, flapjack.Warning, flapjack.Unknown)
	unhealthyEnum = enumOf(flapjack.UnhealthyConditions...)
	strategyEnum  = enumOf(flapjack.Global, flapjack.AnyTag, flapjack.AllTags, flapjack.NoTag)
	actionEnum    = enumOf(flapjack.Acknowledgement, flapjack.TestNotifications)
	transportEnum = enumOf(transports...)
	// tagNamePattern is tagPattern as JSON Schema writes it (no (?i) flag).
	tagNamePattern = `^[A-Za-z0-9._|-]+$`
	// conditionsPattern matches a comma-separated list of unhealthy conditions.
	conditionsPattern = func() string {
		var names []string
		for _, c := range flapjack.UnhealthyConditions {
			names = append(names, string(c))
		}
		one := `\s*(` + strings.Join(names, "|") + `)\s*`
		return "^(" + one + "(," + one + ")*)?$"
	}()
)

func maintenanceAttrs(creatable bool, what string) map[string]attrDoc {
	start := attrRW("When the " + what + " starts (ISO 8601).").eg("2030-01-01T09:00:00Z")
	end := attrRW("When the " + what + " ends (ISO 8601): after start_time. Setting it to now ends the " + what + ".").
		eg("2030-01-01T11:00:00Z")
	if creatable {
		start, end = start.req(), end.req()
	} else {
		start.create, end.create = false, false
	}
	summary := attrRW("Why, for people.").nullable().eg("Database upgrade")
	summary.create = creatable
	return map[string]attrDoc{"start_time": start, "end_time": end, "summary": summary}
}

// attrDocs documents the attributes of every resource, by type and name.
var attrDocs = map[string]map[string]attrDoc{
	"check": {
		"name": attrRW("The check's name, unique: \"<entity>:<check>\" when its events name an entity. "+
			"It cannot be changed: a PATCH may only repeat it.").req().with("minLength", 1).eg("web-01.example.com:HTTP"),
		"enabled": attrRW("Whether the check is monitored and alerts; false decommissions it until its next event.").
			req().eg(true),
		"initial_failure_delay": attrRW("Seconds a check must have failed before its first problem alert; null takes the "+
			"event's or the configured delay.").nullable().with("minimum", 0).eg(30),
		"repeat_failure_delay": attrRW("Seconds between repeated problem alerts of a failing check; null takes the "+
			"event's or the configured delay.").nullable().with("minimum", 0).eg(300),
		"initial_recovery_delay": attrRW("Seconds a check must have been ok before its recovery alert; null takes the "+
			"event's or the configured delay.").nullable().with("minimum", 0).eg(0),
		"failing":   attrRO("Whether the check's condition is unhealthy (critical, warning or unknown)."),
		"condition": attrRO("The check's current condition; empty before its first event.").with("enum", slices.Concat(conditionEnum, []any{""})),
		"ack_hash":  attrRO("A short hash of the check's id (lower-case hex digits) by which chat commands acknowledge it."),
	},
	"contact": {
		"name": attrRW("The contact's name.").eg("Ada Lovelace"),
		"timezone": attrRW("An IANA time zone such as Europe/Rome, for the time restrictions of the contact's rules; " +
			"null takes the configured default.").nullable().eg("Europe/London"),
	},
	"medium": {
		"transport": attrRW("How alerts are sent.").req().with("enum", transportEnum).eg("email"),
		"address": attrRW("Where alerts go: an e-mail address, a phone number, a Jabber id, a webhook URL, an SNS topic ARN, "+
			"a Threema id; for pagerduty, the integration (routing) key.").req().with("minLength", 1).eg("ada@example.com"),
		"interval": attrRW("Seconds between repeated alerts of a failing check to this medium; required unless the "+
			"transport is pagerduty.").with("minimum", 0).eg(900),
		"rollup_threshold": attrRW("How many failing checks make the alerts to this medium roll up into one summary; "+
			"null never rolls up. Must be null for pagerduty.").nullable().with("minimum", 1).eg(3),
		"pagerduty_subdomain": attrRW("The PagerDuty account's subdomain, for acknowledgements made in PagerDuty; " +
			"required for pagerduty, null otherwise.").nullable(),
		"pagerduty_token": attrRW("A PagerDuty API token, for acknowledgements made in PagerDuty; required for pagerduty, " +
			"null otherwise.").nullable(),
		"pagerduty_ack_duration": attrRW("Seconds an acknowledgement made in PagerDuty lasts; pagerduty only; null takes "+
			"the default.").nullable().with("minimum", 1),
	},
	"rule": {
		"name":    attrRW("A name for people.").nullable().eg("Databases"),
		"enabled": attrRW("Whether the rule is used.").req().eg(true),
		"blackhole": attrRW("Whether the rule silences the media it names for the checks it matches instead of " +
			"alerting them.").req().eg(false),
		"strategy": attrRW("How the rule's tags select checks: global, every check; any_tag, checks with at least one of "+
			"the tags; all_tags, checks with all of them; no_tag, checks with none of them (with no tags, all_tags "+
			"and no_tag select every check).").req().with("enum", strategyEnum).eg("all_tags"),
		"conditions_list": attrRW("The conditions that alert, comma-separated, out of critical, warning and unknown; "+
			"null alerts on all of them.").nullable().with("pattern", conditionsPattern).eg("critical,warning"),
		"time_restriction_ical": attrRW("An iCalendar VEVENT (DTSTART, DTEND, RRULE…) giving when the rule applies, in " +
			"the contact's time zone; null: always.").nullable(),
	},
	"tag": {
		"name": attrDoc{desc: "The tag's name, which is its id: letters, digits, '-', '_', '.' and '|', kept in " +
			"lower case.", create: true, required: true}.with("pattern", tagNamePattern).eg("web"),
	},
	"scheduled_maintenance":   maintenanceAttrs(true, "maintenance"),
	"unscheduled_maintenance": maintenanceAttrs(false, "acknowledgement"),
	"state": {
		"created_at": attrRO("When the check entered this condition."),
		"updated_at": attrRO("When an event last confirmed it."),
		"condition":  attrRO("The check's condition.").nullable().with("enum", conditionEnum),
		"action":     attrRO("The action of an action event, when the state records one.").nullable().with("enum", actionEnum),
		"summary":    attrRO("The event's summary.").nullable(),
		"details":    attrRO("The event's details.").nullable(),
		"perfdata": attrRO("The event's performance data, parsed.").nullable().with("type", "array").with("items", jmap{
			"type": "object", "required": []string{"key", "value"},
			"properties": jmap{"key": jmap{"type": "string"}, "value": jmap{"type": "string"}},
		}),
	},
	"statistic": {
		"instance_name":  attrRO("global, or the processor instance's \"<host>:<pid>\"; also the record's id."),
		"created_at":     attrRO("When the instance started counting."),
		"all_events":     attrRO("Events processed.").with("minimum", 0),
		"ok_events":      attrRO("Events reporting ok.").with("minimum", 0),
		"failure_events": attrRO("Events reporting critical, warning or unknown.").with("minimum", 0),
		"action_events":  attrRO("Acknowledgements and test notifications.").with("minimum", 0),
		"invalid_events": attrRO("Events rejected as invalid.").with("minimum", 0),
	},
}

// bodyRel is a relationship a create or update body may set.
type bodyRel struct {
	// typ is the related type; when empty, that of the resource's relationship
	// of the same name.
	name, typ string
	toMany    bool
	required  bool
	minItems  int // for to-many ones
	desc      string
}

// bodyDoc says what create and update bodies of a resource may hold beyond
// its attributes.
type bodyDoc struct {
	// id describes the id a create body may give; nil when it may give none.
	id jmap
	// create and update list the relationships the bodies may set.
	create, update []bodyRel
	// choose, when set, is "one" (exactly one) or "any" (at least one) of the
	// create relationships.
	choose string
	// createAttrs holds further JSON Schema keywords of a create body's
	// attributes: rules tying them together.
	createAttrs jmap
}

var clientUUID = jmap{"type": "string", "format": "uuid",
	"description": "A UUID for the new record; without one the server makes one up."}

// bodyDocs documents the write bodies of the resources that take them.
var bodyDocs = map[string]bodyDoc{
	"check": {
		create: []bodyRel{{name: "tags", typ: "tag", toMany: true, desc: "The check's tags, by name."}},
		update: []bodyRel{{name: "tags", typ: "tag", toMany: true, desc: "Replaces the check's tags."}},
	},
	"contact": {
		id:     clientUUID,
		create: []bodyRel{{name: "tags", typ: "tag", toMany: true, desc: "The contact's tags, by name."}},
		update: []bodyRel{{name: "tags", typ: "tag", toMany: true, desc: "Replaces the contact's tags."}},
	},
	"medium": {
		id: clientUUID,
		createAttrs: jmap{
			"if": jmap{"properties": jmap{"transport": jmap{"const": "pagerduty"}}},
			"then": jmap{
				"description": "A pagerduty medium needs pagerduty_subdomain and pagerduty_token, and does not roll up.",
				"required":    []string{"pagerduty_subdomain", "pagerduty_token"},
				"properties": jmap{
					"pagerduty_subdomain": jmap{"type": "string", "minLength": 1},
					"pagerduty_token":     jmap{"type": "string", "minLength": 1},
					"rollup_threshold":    jmap{"type": "null"},
				},
			},
			"else": jmap{
				"description": "Other media need an interval and take no pagerduty_* attribute.",
				"required":    []string{"interval"},
				"properties": jmap{
					"pagerduty_subdomain":    jmap{"type": "null"},
					"pagerduty_token":        jmap{"type": "null"},
					"pagerduty_ack_duration": jmap{"type": "null"},
				},
			},
		},
		create: []bodyRel{{name: "contact", typ: "contact", required: true,
			desc: "The contact the medium belongs to; it cannot be changed later."}},
		update: []bodyRel{{name: "contact", typ: "contact", desc: "May only repeat the medium's contact."}},
	},
	"rule": {
		id: clientUUID,
		create: []bodyRel{
			{name: "contact", typ: "contact", required: true, desc: "The contact the rule belongs to; it cannot be changed later."},
			{name: "media", typ: "medium", toMany: true, desc: "The media the rule alerts (or, for a blackhole, silences)."},
			{name: "tags", typ: "tag", toMany: true, desc: "The tags the strategy matches checks by."},
		},
		update: []bodyRel{
			{name: "contact", typ: "contact", desc: "May only repeat the rule's contact."},
			{name: "media", typ: "medium", toMany: true, desc: "Replaces the rule's media."},
			{name: "tags", typ: "tag", toMany: true, desc: "Replaces the rule's tags."},
		},
	},
	"tag": {
		id:     jmap{"type": "string", "description": "Optional: a tag's id is its name."},
		create: tagCarrierRels(),
		choose: "any",
	},
	"scheduled_maintenance": {
		id: clientUUID,
		create: []bodyRel{
			{name: "check", typ: "check", desc: "The check to put in maintenance."},
			{name: "tag", typ: "tag", desc: "A tag: every check carrying it gets an identical maintenance of its own."},
		},
		choose: "one",
	},
}

// tagCarrierRels are the relationships a tag is created with: to what carries
// it, at least one of them.
func tagCarrierRels() []bodyRel {
	var out []bodyRel
	for _, rel := range tagCarriers {
		out = append(out, bodyRel{name: rel, toMany: true, minItems: 1,
			desc: "The " + rel + " to carry the tag."})
	}
	return out
}

// relDocs describes relationships, by "<type>.<name>"; others get a plain
// description.
var relDocs = map[string]string{
	"check.tags":                            "The check's tags, by which rules select it.",
	"check.alerting_media":                  "Computed: the media that would be alerted now for the check's condition; empty while the check is disabled, healthy or in maintenance.",
	"check.contacts":                        "Computed: the contacts with an enabled rule (not a blackhole) matching the check's tags; empty while the check is disabled.",
	"check.current_scheduled_maintenances":  "The scheduled maintenances covering now.",
	"check.current_unscheduled_maintenance": "The acknowledgement covering now, if any.",
	"check.current_state":                   "The check's latest state.",
	"check.scheduled_maintenances":          "Every scheduled maintenance of the check, newest first.",
	"check.unscheduled_maintenances":        "Every acknowledgement of the check, newest first.",
	"check.states":                          "The check's history of conditions, newest first.",
	"check.latest_notifications":            "The states the check's latest notifications were made from, newest first.",
	"contact.tags":                          "The contact's tags.",
	"tag.contacts":                          "The contacts carrying the tag.",
	"tag.scheduled_maintenances":            "The scheduled maintenances of the checks carrying the tag, newest first.",
	"tag.unscheduled_maintenances":          "The acknowledgements of the checks carrying the tag, newest first.",
	"tag.states":                            "The states of the checks carrying the tag, newest first.",
	"contact.checks":                        "Computed: the enabled checks an enabled rule of the contact (not a blackhole) matches.",
	"contact.media":                         "The contact's media.",
	"contact.rules":                         "The contact's rules.",
	"medium.contact":                        "The contact the medium belongs to.",
	"medium.rules":                          "The rules that alert this medium.",
	"medium.alerting_checks":                "Computed: the checks that would alert this medium now, those counted for its rollup.",
	"rule.contact":                          "The contact the rule belongs to.",
	"rule.media":                            "The media the rule alerts (or, for a blackhole, silences).",
	"rule.tags":                             "The tags the strategy matches checks by.",
	"tag.checks":                            "The checks carrying the tag.",
	"tag.rules":                             "The rules carrying the tag.",
}

// typeDocs describes each resource type.
var typeDocs = map[string]string{
	"check": "A check is one monitored thing, such as a service on a host. The first event naming it creates it; " +
		"its condition, failing flag and ack hash follow its events.",
	"contact": "A person to alert. Deleting a contact deletes its media and rules.",
	"medium":  "A contact's address on one transport, with how often alerts repeat and when they roll up.",
	"rule": "Which checks (by tags and strategy), conditions and times alert which media of a contact; a blackhole " +
		"rule silences them instead.",
	"tag": "A label of checks, contacts and rules. A tag exists while something carries it; its id is its name. " +
		"Deleting a tag takes it from everything carrying it.",
	"scheduled_maintenance": "A planned window during which a check sends no alert.",
	"unscheduled_maintenance": "An acknowledgement: a window during which a failing check sends no problem alert. " +
		"POST /acknowledgements makes them; a PATCH of end_time to now ends one.",
	"state":     "A check's condition from one change to the next: the checks' history.",
	"statistic": "The event counters of the processor: global, and one record per running processor instance.",
}

// idDocs describes the ids of resource types; others are plain strings.
var idDocs = map[string]jmap{
	"check":                   {"type": "string", "format": "uuid"},
	"scheduled_maintenance":   {"type": "string", "format": "uuid"},
	"unscheduled_maintenance": {"type": "string", "format": "uuid"},
	"state":                   {"type": "string", "format": "uuid"},
	"contact":                 {"type": "string", "description": "A UUID, unless the record came from a setup file with ids of its own."},
	"medium":                  {"type": "string", "description": "A UUID, unless the record came from a setup file with ids of its own."},
	"rule":                    {"type": "string", "description": "A UUID, unless the record came from a setup file with ids of its own."},
	"tag":                     {"type": "string", "description": "The tag's name."},
	"statistic":               {"type": "string", "description": "The instance name."},
}
