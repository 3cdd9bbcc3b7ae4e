package api

import (
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// structSchema is the schema of the JSON encoding/json makes of a value of t.
// about adds descriptions and keywords to properties, by "<Go type>.<name>".
func structSchema(t reflect.Type, about map[string]jmap) jmap {
	switch t.Kind() {
	case reflect.Pointer:
		s := structSchema(t.Elem(), about)
		if typ, ok := s["type"].(string); ok {
			s["type"] = []string{typ, "null"}
		}
		return s
	case reflect.String:
		return jmap{"type": "string"}
	case reflect.Bool:
		return jmap{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return jmap{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return jmap{"type": "number"}
	case reflect.Slice, reflect.Array:
		return jmap{"type": "array", "items": structSchema(t.Elem(), about)}
	case reflect.Map:
		return jmap{"type": "object", "additionalProperties": structSchema(t.Elem(), about)}
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return jmap{"type": "string", "format": "date-time"}
		}
		props := jmap{}
		var required []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !f.IsExported() || name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			s := structSchema(f.Type, about)
			maps.Copy(s, about[t.Name()+"."+name])
			props[name] = s
			if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
				required = append(required, name)
			}
		}
		out := jmap{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			out["required"] = required
		}
		return out
	}
	return jmap{}
}

// plainJSON is an answer in application/json.
func plainJSON(desc string, schema any) jmap {
	return jmap{"description": desc, "content": jmap{"application/json": jmap{"schema": schema}}}
}

// events describes POST /events.
func (g *docGen) events(method, path string) {
	if method == "" {
		method = "POST"
	}
	tag := g.tag("events", "The event intake: check results, acknowledgements and test requests for the "+
		"processor, in the event format of Flapjack v2.")
	g.schemas["Event"] = eventSchema()
	g.schemas["EventsReply"] = structSchema(reflect.TypeFor[EventsReply](), map[string]jmap{
		"EventsReply.accepted": {"description": "How many events were queued.", "minimum": 0},
		"EventsReply.rejected": {"description": "The invalid events, each with its problems."},
		"RejectedEvent.index":  {"description": "The event's position in the array, from 0; 0 for a single event.", "minimum": 0},
		"RejectedEvent.errors": {"description": "Every problem of the event, \"<key>: <message>\"."},
	})
	g.schemas["EventsError"] = jmap{"type": "object", "required": []string{"error"},
		"properties": jmap{"error": jmap{"type": "string", "description": "What went wrong."}}}
	op := g.operation(tag, "postEvents", "Send events",
		"Queues events for the processor: one event object, or an array of them. Each valid event is "+
			"queued in its normalised form; invalid ones are reported with all their problems, and do not "+
			"keep the valid ones of the same request from being queued. Any Content-Type is read as JSON.", true)
	op["requestBody"] = jmap{"required": true, "content": jmap{"application/json": jmap{"schema": jmap{
		"oneOf": []any{schemaRef("Event"), jmap{"type": "array", "items": schemaRef("Event")}}}}}}
	respond(op, 202, plainJSON("Every event was queued.", schemaRef("EventsReply")))
	respond(op, 207, plainJSON("Some events were queued, the others were invalid.", schemaRef("EventsReply")))
	respond(op, 422, plainJSON("No event was valid, or the array was empty.", schemaRef("EventsReply")))
	respond(op, 400, plainJSON("The body is empty or not JSON.", schemaRef("EventsError")))
	respond(op, 403, errorResponse(why403Token))
	respond(op, 413, plainJSON(why413, schemaRef("EventsError")))
	respond(op, 503, plainJSON("The events could not be queued; try again.", schemaRef("EventsError")))
	g.put(path, method, op)
}

// eventSchema is the schema of a valid event (flapjack.ParseEvent).
func eventSchema() jmap {
	digits := func(desc string) jmap {
		return jmap{"type": []string{"integer", "string", "null"}, "pattern": "^[0-9]+$", "description": desc}
	}
	text := func(desc string) jmap { return jmap{"type": []string{"string", "null"}, "description": desc} }
	return jmap{
		"type": "object", "required": []string{"check", "state"}, "additionalProperties": false,
		"description": "One event, in the format of Flapjack v2. A null counts as not given.",
		"properties": jmap{
			"check": jmap{"type": "string", "minLength": 1, "examples": []any{"HTTP"},
				"description": "The check's name, or its part after the entity."},
			"state": jmap{"type": "string", "minLength": 1, "examples": []any{"critical"},
				"description": "ok, warning, critical or unknown for a check result; acknowledgement; or " +
					"test_notifications, optionally followed by a space and critical, warning or unknown. Any case."},
			"entity":                 jmap{"type": []string{"string", "null"}, "examples": []any{"web-01.example.com"}, "description": "When given, the check's name is \"<entity>:<check>\"."},
			"time":                   digits("The producer's Unix time; checked, not used."),
			"initial_failure_delay":  digits("Overrides the check's initial failure delay for this event, in seconds; 0 is a value."),
			"repeat_failure_delay":   digits("Overrides the check's repeat failure delay, in seconds."),
			"initial_recovery_delay": digits("Overrides the check's initial recovery delay, in seconds."),
			"duration":               digits("An acknowledgement's length in seconds; 4 hours when not given."),
			"summary":                text("Short output of the check."),
			"details":                text("Long output of the check."),
			"perfdata":               text("Nagios performance data, such as time=0.48s;;;0 size=909B;;;0."),
			"acknowledgement_id": jmap{"type": []string{"string", "integer", "null"},
				"description": "The ack hash an acknowledgement was made with; checked, not used."},
			"tags": jmap{"type": []string{"array", "null"}, "items": jmap{"type": "string"},
				"description": "Checked, not used: routing uses the check's own tags."},
			"type": jmap{"description": "The event type of Flapjack v1; ignored."},
		},
	}
}

// metrics describes GET /metrics.
func (g *docGen) metrics(method, path string) {
	tag := g.tag("metrics", "Counts of events, queued events and checks.")
	counts := jmap{"type": "integer", "minimum": 0}
	fresh := jmap{}
	var buckets []string
	for i, b := range freshnessBuckets {
		key := strconv.FormatInt(b, 10)
		buckets = append(buckets, key)
		c := maps.Clone(counts)
		if i+1 < len(freshnessBuckets) {
			c["description"] = "Enabled checks whose state was last confirmed " + key + " to " +
				strconv.FormatInt(freshnessBuckets[i+1], 10) + " seconds ago."
		} else {
			c["description"] = "Enabled checks whose state was last confirmed at least " + key + " seconds ago."
		}
		fresh[key] = c
	}
	attrs := jmap{
		"total_keys": jmap{"type": "integer", "minimum": 0,
			"description": "How many keys the store holds; there when the store counts them."},
		"event_queue_length": jmap{"type": "integer", "minimum": 0, "description": "Events waiting in the queue."},
		"processed_events":   structSchema(reflect.TypeFor[flapjack.Statistics](), nil),
		"check_freshness": jmap{"type": "object", "additionalProperties": false, "required": buckets,
			"properties": fresh, "description": "Enabled checks by the age of their last event, in seconds."},
		"check_counts": jmap{"type": "object", "additionalProperties": false,
			"required":   []string{"all", "enabled", "failing"},
			"properties": jmap{"all": counts, "enabled": counts, "failing": counts}},
	}
	attrs["processed_events"].(jmap)["description"] = "The global event counters, as in the global statistic."
	names := slices.Sorted(maps.Keys(attrs))
	g.schemas["MetricsDocument"] = jmap{"type": "object", "required": []string{"data", "links"},
		"properties": jmap{
			"data": jmap{"type": "object", "required": []string{"id", "type", "attributes"}, "properties": jmap{
				"id":   jmap{"type": "string", "format": "uuid", "description": "A new UUID every time."},
				"type": jmap{"const": "metrics"},
				"attributes": jmap{"type": "object", "additionalProperties": false, "properties": attrs,
					"description": "Every attribute (total_keys when the store counts keys) unless fields names only some."},
			}},
			"links": schemaRef("SelfLinks"),
		}}
	op := g.operation(tag, "getMetrics", "Get the metrics",
		"The metrics singleton of Flapjack v2. When the server exports Prometheus metrics, a request whose "+
			"Accept header does not name application/vnd.api+json gets the Prometheus text exposition here "+
			"instead.", false)
	op["parameters"] = []any{jmap{"name": "fields", "in": "query", "style": "form", "explode": true,
		"description": "The attributes to show, comma-separated or repeated; the others are left out.",
		"schema": jmap{"type": "array", "items": jmap{"type": "string",
			"pattern": "^(" + strings.Join(names, "|") + ")(,(" + strings.Join(names, "|") + "))*$"}}}}
	resp := docResponse("The metrics.", schemaRef("MetricsDocument"))
	resp["content"].(jmap)["text/plain"] = jmap{"schema": jmap{"type": "string",
		"description": "The Prometheus text exposition format."}}
	respond(op, 200, resp)
	respond(op, 403, errorResponse("fields names an attribute that is not there."))
	g.put(path, method, op)
}

// doc describes GET /doc.
func (g *docGen) doc(method, path string) {
	tag := g.tag("doc", "This description.")
	op := g.operation(tag, "getDoc", "Get this description",
		"The OpenAPI description of this API, made from the resources and routes the server serves.", false)
	op["parameters"] = []any{jmap{"name": "format", "in": "query",
		"description": "json (the default) or yaml.",
		"schema":      jmap{"type": "string", "enum": []string{"json", "yaml"}, "default": "json"}}}
	described := jmap{"type": "object", "required": []string{"openapi", "info", "paths"},
		"description": "An OpenAPI " + openAPIVersion + " document."}
	respond(op, 200, jmap{"description": "The description.", "content": jmap{
		"application/json": jmap{"schema": described},
		"application/yaml": jmap{"schema": described},
	}})
	respond(op, 403, errorResponse("format is neither json nor yaml."))
	g.put(path, method, op)
}

// action describes POST /acknowledgements or /test_notifications: typ is the
// type of their records, attrs their attributes.
func (g *docGen) action(method, path, typ, summary, desc string, attrs jmap) {
	n := camelCase(typ)
	tag := g.tag(strings.TrimPrefix(path, "/"), desc)
	g.identifier("check")
	g.identifier("tag")
	target := func(typ, desc string) jmap {
		return jmap{"type": "object", "required": []string{"data"}, "description": desc,
			"properties": jmap{"data": g.identifier(typ)}}
	}
	attrObj := jmap{"type": "object", "additionalProperties": false, "properties": attrs}
	g.schemas[n+"Create"] = jmap{"type": "object", "required": []string{"type", "relationships"},
		"properties": jmap{
			"type":       jmap{"const": typ},
			"id":         clientUUID,
			"attributes": attrObj,
			"relationships": jmap{"type": "object", "additionalProperties": false,
				"description": "Exactly one of these.",
				"oneOf":       []any{jmap{"required": []string{"check"}}, jmap{"required": []string{"tag"}}},
				"properties": jmap{
					"check": target("check", "One check."),
					"tag":   target("tag", "Every check carrying this tag."),
				}},
		}}
	g.schemas[n] = jmap{"type": "object", "required": []string{"id", "type", "attributes"},
		"description": "The request's record, echoed: nothing of it is stored.",
		"properties":  jmap{"id": jmap{"type": "string", "format": "uuid"}, "type": jmap{"const": typ}, "attributes": attrObj}}
	op := g.operation(tag, "create"+camelCase(strings.TrimPrefix(path, "/")), summary, desc+" One record (data is an "+
		"object) or several (data is an array, with the bulk extension); all are validated before any event "+
		"is queued.", true)
	op["requestBody"] = jsonBody(schemaRef(n+"Create"), schemaRef(n+"Create"))
	respond(op, 201, docResponse("Queued.", jmap{"type": "object", "required": []string{"data"},
		"properties": jmap{"data": jmap{"oneOf": []any{schemaRef(n), jmap{"type": "array", "items": schemaRef(n)}}}}}))
	bodyErrors(op, "The check or tag does not exist, or the body names another relationship.", why409Type)
	g.put(path, method, op)
}

func (g *docGen) acknowledgements(method, path string) {
	g.action(method, path, "acknowledgement", "Acknowledge checks",
		"Acknowledges a failing check, or every failing check with a tag: queues an acknowledgement event "+
			"for each that is failing and enabled, and skips the others.", jmap{
			"duration": jmap{"type": []string{"integer", "null"}, "minimum": 1, "examples": []any{3600},
				"description": "How long the acknowledgement lasts, in seconds; null or not given: 4 hours."},
			"summary": jmap{"type": []string{"string", "null"}, "examples": []any{"on it"},
				"description": "Why, for people."},
		})
}

func (g *docGen) testNotifications(method, path string) {
	g.action(method, path, "test_notification", "Send test notifications",
		"Asks for a test notification of a check, or of every check with a tag whatever its state: queues a "+
			"test_notifications event for each.", jmap{
			"condition": jmap{"type": []string{"string", "null"}, "enum": append(slices.Clone(unhealthyEnum), nil),
				"description": "The condition to alert as; critical when not given."},
			"summary": jmap{"type": []string{"string", "null"}, "description": "The alert's summary."},
		})
}

// decisions describes GET /checks/{id}/decisions.
func (g *docGen) decisions(method, path string) {
	if method == "" {
		method = "GET"
	}
	checks := g.s.resources["check"]
	tag := g.resourceTag(checks)
	g.pathParams(path, idParam(checks))
	attrs := structSchema(reflect.TypeFor[decisionAttributes](), map[string]jmap{
		"decisionAttributes.source": {"enum": []string{flapjack.DecidedByProcessor, flapjack.DecidedByNotifier},
			"description": "Who decided: the processor, of an event; the notifier, of a notification."},
		"decisionAttributes.time":  {"format": "date-time", "description": "When the first of the decisions was made."},
		"decisionAttributes.last":  {"format": "date-time", "description": "When the latest was made."},
		"decisionAttributes.count": {"minimum": 0, "description": "How many identical decisions in a row the record stands for."},
		"decisionAttributes.event": {"description": "What was decided on: the processor's event state (critical, ok, " +
			"acknowledgement…) or the notifier's notification type (problem, recovery, acknowledgement, test)."},
		"decisionAttributes.summary": {"description": "The event's summary."},
		"decisionAttributes.outcome": {"enum": []string{flapjack.OutcomeNotification, flapjack.OutcomeNoNotification,
			flapjack.OutcomeAlerted, flapjack.OutcomeNotAlerted}},
		"decisionAttributes.blocked_by":      {"description": "The filter that kept the event from notifying."},
		"decisionAttributes.notification_id": {"description": "The notification made or handled: it joins the processor's record to the notifier's."},
		"decisionAttributes.explanation":     {"description": "What was decided and why, in plain words."},
		"decisionAttributes.alerts":          {"description": "Whom the notifier alerted, by medium id."},
		"decisionAttributes.trace":           {"description": "The steps of the decision."},
		"DecisionAlert.type": {"enum": enumOf(flapjack.TypeProblem, flapjack.TypeRecovery, flapjack.TypeAcknowledgement,
			flapjack.TypeTest)},
		"DecisionAlert.rollup": {"enum": enumOf(flapjack.RollupProblem, flapjack.RollupRecovery)},
		"TraceStep.stage":      {"description": "The part that decided, such as filter:delays or medium:<id>."},
		"TraceStep.outcome":    {"description": "Its result, in a word: pass, block, send, skip…"},
		"TraceStep.detail":     {"description": "Why, in plain words."},
	})
	g.schemas["Decision"] = jmap{"type": "object", "required": []string{"type", "id", "attributes", "relationships"},
		"description": "One entry of a check's decision log.",
		"properties": jmap{
			"type":       jmap{"const": "decision"},
			"id":         jmap{"type": "string", "description": "<check id>:<Unix nanoseconds of time>:<source>."},
			"attributes": attrs,
			"relationships": jmap{"type": "object", "required": []string{"check"}, "properties": jmap{
				"check": jmap{"type": "object", "required": []string{"links", "data"}, "properties": jmap{
					"links": jmap{"type": "object", "required": []string{"related"},
						"properties": jmap{"related": jmap{"type": "string", "format": "uri"}}},
					"data": g.identifier("check"),
				}},
			}},
		}}
	op := g.operation(tag, "getCheckDecisions", "Get the decisions of a check",
		"The check's decision log, newest first: what the processor made of its recent events and whom the "+
			"notifier alerted, each with its explanation and the trace behind it. It is not paginated: the "+
			"store keeps the last "+strconv.Itoa(store.DecisionLogSize)+" records.", false)
	respond(op, 200, docResponse("The decision log.", jmap{"type": "object", "required": []string{"data", "links", "meta"},
		"properties": jmap{
			"data":  jmap{"type": "array", "items": schemaRef("Decision")},
			"links": schemaRef("SelfLinks"),
			"meta": jmap{"type": "object", "required": []string{"kept"}, "properties": jmap{"kept": jmap{
				"type": "integer", "description": "How many records the store keeps per check."}}},
		}}))
	respond(op, 404, errorResponse("There is no check with that id."))
	g.put(path, method, op)
}
