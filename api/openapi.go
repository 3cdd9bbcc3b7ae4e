package api

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// openAPIVersion is the version of the OpenAPI Specification GET /doc follows.
const openAPIVersion = "3.1.0"

// bulkMediaType is the Content-Type of request bodies whose data is an array.
const bulkMediaType = MediaType + "; ext=bulk"

// jmap is a JSON object of the OpenAPI document.
type jmap = map[string]any

// routeDocs describes the routes of Handler's mux, by pattern as registered.
// The four resource routes describe every resource and relationship there is;
// every other route needs an entry of its own, which gets the route's method
// (empty when the pattern has none) and its path as OpenAPI writes it. A nil
// entry is a route with nothing to describe. GET /doc leaves out the routes
// missing here, and a test fails on them.
var routeDocs = map[string]func(g *docGen, method, path string){
	"/{path}":                          (*docGen).collections,
	"/{path}/{id}":                     (*docGen).records,
	"/{path}/{id}/{rel}":               (*docGen).related,
	"/{path}/{id}/relationships/{rel}": (*docGen).relationships,
	"/":                                nil, // the 404 of every other path
	"/events":                          (*docGen).events,
	"GET /metrics":                     (*docGen).metrics,
	"GET /doc":                         (*docGen).doc,
	"POST /acknowledgements":           (*docGen).acknowledgements,
	"POST /test_notifications":         (*docGen).testNotifications,
	"/checks/{id}/decisions":           (*docGen).decisions,
}

// splitPattern returns the method and the OpenAPI path of a ServeMux pattern.
func splitPattern(pattern string) (method, path string) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	path = strings.TrimSuffix(path, "{$}")
	path = strings.ReplaceAll(path, "...}", "}")
	return method, path
}

// docGen builds the OpenAPI document of one server.
type docGen struct {
	s       *server
	paths   jmap // path → method → operation
	schemas jmap
	params  jmap
	tags    map[string]string // name → description
}

// openAPI describes the API s serves at base.
func (s *server) openAPI(base string) jmap {
	g := &docGen{s: s, paths: jmap{}, schemas: jmap{}, params: jmap{}, tags: map[string]string{}}
	g.commonSchemas()
	for _, rs := range g.sorted() {
		g.resourceSchemas(rs)
	}
	for _, pattern := range s.routes {
		method, path := splitPattern(pattern)
		if describe := routeDocs[pattern]; describe != nil {
			describe(g, method, path)
		}
	}
	for path, item := range g.paths {
		item := item.(jmap)
		item["options"] = g.preflight(path, item)
	}
	tags := []any{}
	for _, name := range slices.Sorted(maps.Keys(g.tags)) {
		tags = append(tags, jmap{"name": name, "description": g.tags[name]})
	}
	return jmap{
		"openapi": openAPIVersion,
		"info": jmap{
			"title":       "Flapjack API",
			"version":     "2",
			"summary":     "The JSON:API of Flapjack v2, the event intake and the metrics of Flapjack for Go.",
			"description": apiDescription,
		},
		"servers": []any{jmap{"url": base, "description": "The server that served this description."}},
		"tags":    tags,
		"paths":   g.paths,
		"components": jmap{
			"schemas":    g.schemas,
			"parameters": g.params,
			"responses":  commonResponses(),
			"headers":    corsHeaders(),
			"securitySchemes": jmap{"bearerToken": jmap{
				"type": "http", "scheme": "bearer",
				"description": "A token of [gateways.jsonapi]: one of tokens_read (role read) allows GET, HEAD and " +
					"OPTIONS requests; one of tokens_write (role write) allows every request. Without tokens, " +
					"which is allowed only on a loopback address (the default, 127.0.0.1), no token is needed.",
			}},
		},
	}
}

const apiDescription = `The JSON:API of Flapjack: checks, contacts, media, rules, tags, scheduled and
unscheduled maintenances, states, statistics and metrics, acknowledgements and test notifications, with the
event intake (POST /events) beside it. It follows JSON:API 1.0 with its bulk extension, as Flapjack v2 did.

**Media types.** Requests with a body carry ` + "`Content-Type: application/vnd.api+json`" + `; a body whose
data is an array (the bulk extension) carries ` + "`application/vnd.api+json; ext=bulk`" + ` instead, and a
single object must not. Answers are ` + "`application/vnd.api+json; supported-ext=bulk; charset=utf-8`" + `,
except those of POST /events and GET /doc, and the Prometheus form of GET /metrics.

**Records.** A record is {id, type, attributes, relationships}. Each relationship has links (self: its
linkage endpoint; related: the same linkage under /{type}/{id}/{relationship}) and, when the request
included it, data: the linkage itself. A collection adds links (self, first, last, prev, next),
meta.pagination and the Link and Total-Count headers. Times are ISO 8601, in UTC, to the second.

**Errors.** An error answers {"errors":[{"status":"403","detail":"…"}]}: 403 for a refused request (an
invalid query or body, a failed validation, a read-only token), 404 for a missing record or route or a
relationship that cannot be written, 405 for a form body, 406 for a bulk extension that does not fit the
body, 409 for an id in use or a type that is not the endpoint's, 415 for a body that is not JSON:API, 500
for a failure of the server.

**Authentication.** With no tokens configured, which is allowed only on a loopback address (the
default), nothing is needed. Otherwise every request needs ` + "`Authorization: Bearer TOKEN`" + `: a read
token allows GET, HEAD and OPTIONS, a write token everything. A missing or unknown token is answered 401
with WWW-Authenticate: Bearer, a read token on any other method 403.

**CORS.** Every answer allows any origin; OPTIONS on any path answers 204 with the CORS headers, and CORS
preflight requests need no token.`

// sorted returns the resources by path.
func (g *docGen) sorted() []*resource { return resourcesByPath(g.s) }

// resourcesByPath returns the resources of s by path.
func resourcesByPath(s *server) []*resource {
	out := slices.Collect(maps.Values(s.byPath))
	slices.SortFunc(out, func(a, b *resource) int { return strings.Compare(a.path, b.path) })
	return out
}

// camelCase turns snake_case into CamelCase.
func camelCase(s string) string {
	var b strings.Builder
	for part := range strings.SplitSeq(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// words turns snake_case into words.
func words(s string) string { return strings.ReplaceAll(s, "_", " ") }

// aWords is words with its indefinite article.
func aWords(s string) string {
	if strings.ContainsAny(s[:1], "aeiou") {
		return "an " + words(s)
	}
	return "a " + words(s)
}

func schemaRef(name string) jmap { return jmap{"$ref": "#/components/schemas/" + name} }

func respRef(name string) jmap { return jmap{"$ref": "#/components/responses/" + name} }

func paramRef(name string) jmap { return jmap{"$ref": "#/components/parameters/" + name} }

func headerRef(name string) jmap { return jmap{"$ref": "#/components/headers/" + name} }

// put adds op to the path item of path.
func (g *docGen) put(path, method string, op jmap) {
	item, _ := g.paths[path].(jmap)
	if item == nil {
		item = jmap{}
		g.paths[path] = item
	}
	item[strings.ToLower(method)] = op
}

// pathParams sets the parameters every operation of path shares.
func (g *docGen) pathParams(path string, params ...any) {
	if _, ok := g.paths[path]; !ok {
		g.paths[path] = jmap{}
	}
	g.paths[path].(jmap)["parameters"] = params
}

// operation starts an operation: its tag, id, words and security, and the
// answers every operation may give.
func (g *docGen) operation(tag, id, summary, desc string, write bool) jmap {
	role := "read"
	if write {
		role = "write"
	}
	return jmap{
		"tags": []string{tag}, "operationId": id, "summary": summary, "description": desc,
		"security":  []any{jmap{"bearerToken": []string{role}}, jmap{}},
		"responses": jmap{"401": respRef("Unauthorized"), "500": respRef("InternalError")},
	}
}

func respond(op jmap, status int, resp jmap) { op["responses"].(jmap)[strconv.Itoa(status)] = resp }

// docResponse is a JSON:API answer.
func docResponse(desc string, schema any) jmap {
	return jmap{"description": desc, "content": jmap{MediaType: jmap{"schema": schema}}}
}

// errorResponse is a JSON:API error answer.
func errorResponse(desc string) jmap { return docResponse(desc, schemaRef("Errors")) }

func withHeaders(resp jmap, names ...string) jmap {
	h := jmap{}
	for _, n := range names {
		h[n] = headerRef(n)
	}
	resp["headers"] = h
	return resp
}

// jsonBody is a request body of JSON:API documents, single or bulk.
func jsonBody(single, bulk any) jmap {
	content := jmap{}
	if single != nil {
		content[MediaType] = jmap{"schema": jmap{"type": "object", "required": []string{"data"},
			"properties": jmap{"data": single}}}
	}
	if bulk != nil {
		content[bulkMediaType] = jmap{"schema": jmap{"type": "object", "required": []string{"data"},
			"properties": jmap{"data": jmap{"type": "array", "minItems": 1, "items": bulk}}}}
	}
	return jmap{"required": true, "content": content}
}

// Why requests are refused.
const (
	why400      = "The request body could not be read."
	why403Query = "A query parameter is invalid: an unknown filter key or a filter value that does not fit its " +
		"attribute, a sort key that is unknown or has no sign, an include path that is not includable, an unknown " +
		"fields name, or a page or per_page below 1."
	why403Body = "The body is refused: validation failed (\"Validation failed, …\" lists every problem), data is " +
		"missing or malformed, or an attribute is unknown or read-only (\"Invalid attribute(s): …\"); or the " +
		"token is read-only."
	why403Token = "The token is read-only."
	why404Write = "A record the body names does not exist (\"could not find <Type> record, id: '<id>'\"), or " +
		"a relationship is unknown or cannot be set in this body."
	why405 = "The body is a form (application/x-www-form-urlencoded or multipart/form-data), not JSON:API."
	why406 = "The bulk extension does not fit the body: an array needs Content-Type " +
		"application/vnd.api+json; ext=bulk, a single object must not carry ext=bulk."
	why409Type = "A data object's type is not the endpoint's."
	why413     = "The body is larger than 8 MiB."
	why415     = "The Content-Type is not application/vnd.api+json."
)

// bodyErrors adds the answers to a refused JSON:API body.
func bodyErrors(op jmap, notFound, conflict string) {
	respond(op, 400, respRef("UnreadableBody"))
	respond(op, 403, respRef("RefusedBody"))
	respond(op, 404, errorResponse(notFound))
	respond(op, 405, respRef("FormBody"))
	respond(op, 406, respRef("BulkMismatch"))
	respond(op, 409, errorResponse(conflict))
	respond(op, 413, respRef("TooLarge"))
	respond(op, 415, respRef("NotJSONAPI"))
}

func commonResponses() jmap {
	return jmap{
		"Unauthorized": jmap{
			"description": "The server has tokens and the request has none, or an unknown one.",
			"headers": jmap{"WWW-Authenticate": jmap{"description": `Bearer realm="flapjack", with ` +
				`error="invalid_token" for an unknown token.`, "schema": jmap{"type": "string"}}},
			"content": jmap{MediaType: jmap{"schema": schemaRef("Errors")}},
		},
		"InternalError":  errorResponse("The server failed; the detail says no more than \"internal error\", the log says why."),
		"UnreadableBody": errorResponse(why400),
		"InvalidQuery":   errorResponse(why403Query),
		"RefusedBody":    errorResponse(why403Body),
		"ReadOnlyToken":  errorResponse(why403Token),
		"FormBody":       errorResponse(why405),
		"BulkMismatch":   errorResponse(why406),
		"TooLarge":       errorResponse(why413),
		"NotJSONAPI":     errorResponse(why415),
		"Preflight": jmap{
			"description": "The CORS headers, and nothing else.",
			"headers": jmap{
				"Access-Control-Allow-Origin":   headerRef("Access-Control-Allow-Origin"),
				"Access-Control-Allow-Methods":  headerRef("Access-Control-Allow-Methods"),
				"Access-Control-Allow-Headers":  headerRef("Access-Control-Allow-Headers"),
				"Access-Control-Expose-Headers": headerRef("Access-Control-Expose-Headers"),
				"Access-Control-Max-Age":        headerRef("Access-Control-Max-Age"),
			},
		},
	}
}

func corsHeaders() jmap {
	str := func(desc string) jmap { return jmap{"description": desc, "schema": jmap{"type": "string"}} }
	return jmap{
		"Access-Control-Allow-Origin":   str("*: every origin, on every answer."),
		"Access-Control-Allow-Methods":  str("GET, POST, PATCH, DELETE, OPTIONS"),
		"Access-Control-Allow-Headers":  str("*, Content-Type, Accept, Authorization, Cache-Control"),
		"Access-Control-Expose-Headers": str("Cache-Control, Content-Language, Content-Type, Expires, Last-Modified, Pragma"),
		"Access-Control-Max-Age":        jmap{"description": "How long, in seconds, a preflight answer may be kept: 1728000.", "schema": jmap{"type": "integer"}},
		"Link": str("The pages of the collection, as in links: <url>; rel=\"first\", and likewise prev, next and " +
			"last."),
		"Total-Count": jmap{"description": "How many records match, on every page.", "schema": jmap{"type": "integer", "minimum": 0}},
		"Location":    str("The URL of the new records: <base>/<type>/<id>[,<id>…]."),
	}
}

// preflight is the OPTIONS operation of a path.
func (g *docGen) preflight(path string, item jmap) jmap {
	op := jmap{
		"summary": "CORS preflight",
		"description": "Answers 204 with the CORS headers, whatever the path. A CORS preflight request (one with " +
			"Access-Control-Request-Method) needs no token.",
		"security":  []any{jmap{}, jmap{"bearerToken": []string{"read"}}},
		"responses": jmap{"204": respRef("Preflight")},
	}
	for _, other := range item {
		if o, ok := other.(jmap); ok {
			if tags, ok := o["tags"]; ok {
				op["tags"] = tags
				break
			}
		}
	}
	return op
}

// commonSchemas adds the schemas every resource shares.
func (g *docGen) commonSchemas() {
	link := jmap{"type": "string", "format": "uri"}
	g.schemas["Errors"] = jmap{
		"type": "object", "required": []string{"errors"},
		"description": "The error document: one error per problem, each with the answer's status.",
		"properties": jmap{"errors": jmap{"type": "array", "minItems": 1, "items": jmap{
			"type": "object", "required": []string{"status", "detail"},
			"properties": jmap{
				"status": jmap{"type": "string", "pattern": "^[0-9]{3}$", "description": "The HTTP status, as a string."},
				"detail": jmap{"type": "string", "description": "What went wrong, for people."},
			},
		}}},
	}
	g.schemas["SelfLinks"] = jmap{"type": "object", "required": []string{"self"},
		"properties": jmap{"self": jmap{"type": "string", "format": "uri", "description": "The URL of the request."}}}
	g.schemas["PageLinks"] = jmap{
		"type": "object", "required": []string{"self", "first", "last"},
		"description": "The request and the pages of its collection: prev is there past the first page, next " +
			"before the last.",
		"properties": jmap{"self": link, "first": link, "prev": link, "next": link, "last": link},
	}
	g.schemas["RelationshipLinks"] = jmap{
		"type": "object", "required": []string{"self", "related"},
		"properties": jmap{
			"self":    jmap{"type": "string", "format": "uri", "description": "<base>/<type>/<id>/relationships/<name>: the linkage, and the relationship's writes where it is writable."},
			"related": jmap{"type": "string", "format": "uri", "description": "<base>/<type>/<id>/<name>: the same linkage."},
		},
	}
	count := jmap{"type": "integer", "minimum": 0}
	g.schemas["Meta"] = jmap{
		"type": "object", "required": []string{"pagination"},
		"properties": jmap{"pagination": jmap{
			"type": "object", "required": []string{"page", "per_page", "total_pages", "total_count"},
			"properties": jmap{
				"page":        jmap{"type": "integer", "minimum": 1, "description": "This page, from 1."},
				"per_page":    jmap{"type": "integer", "minimum": 1, "description": "Records per page."},
				"total_pages": jmap{"type": "integer", "minimum": 1, "description": "How many pages there are (1 for none)."},
				"total_count": count,
			},
		}},
	}
	var all []any
	for _, rs := range g.sorted() {
		all = append(all, schemaRef(camelCase(rs.typ)))
	}
	g.schemas["Included"] = jmap{"type": "array", "description": "The records include asked for, each once.",
		"items": jmap{"oneOf": all}}
	g.params["page"] = jmap{"name": "page", "in": "query", "description": "The page to answer, from 1.",
		"schema": jmap{"type": "integer", "minimum": 1, "default": 1}}
	g.params["per_page"] = jmap{"name": "per_page", "in": "query", "description": "How many records a page holds.",
		"schema": jmap{"type": "integer", "minimum": 1, "default": 20}}
	for _, rs := range g.sorted() {
		names := []any{}
		for _, a := range rs.attrs {
			names = append(names, a.name)
		}
		g.params["fields_"+rs.typ] = jmap{
			"name": "fields[" + rs.typ + "]", "in": "query", "style": "form", "explode": false,
			"description": "A sparse fieldset: the attributes of " + words(rs.typ) + " records to show, " +
				"comma-separated; the others are left out. The primary records and the included ones alike.",
			"schema": jmap{"type": "array", "items": jmap{"type": "string", "enum": names}},
		}
	}
}

// idSchema is the schema of the ids of typ.
func idSchema(typ string) jmap {
	s := jmap{"type": "string"}
	maps.Copy(s, idDocs[typ])
	return s
}

// identifier returns a reference to the resource identifier schema of typ,
// adding it first.
func (g *docGen) identifier(typ string) jmap {
	n := camelCase(typ) + "Identifier"
	if _, ok := g.schemas[n]; !ok {
		g.schemas[n] = jmap{"type": "object", "required": []string{"type", "id"},
			"properties": jmap{"type": jmap{"const": typ}, "id": idSchema(typ)}}
	}
	return schemaRef(n)
}

// linkage is the schema of a relationship's data.
func (g *docGen) linkage(spec relSpec) jmap {
	if spec.toMany {
		return jmap{"type": "array", "items": g.identifier(spec.typ)}
	}
	return jmap{"oneOf": []any{g.identifier(spec.typ), jmap{"type": "null"}}}
}

// attrSchema is the schema of an attribute; readOnly marks it so (answers).
func attrSchema(a attrSpec, d attrDoc, readOnly bool) jmap {
	s := maps.Clone(d.schema)
	if s == nil {
		s = jmap{}
	}
	switch a.kind {
	case kString:
		s["type"] = "string"
	case kBool:
		s["type"] = "boolean"
	case kInt:
		s["type"] = "integer"
	case kTime:
		s["type"], s["format"] = "string", "date-time"
	}
	if d.null {
		if t, ok := s["type"].(string); ok {
			s["type"] = []string{t, "null"}
		}
		if e, ok := s["enum"].([]any); ok {
			s["enum"] = append(slices.Clone(e), nil)
		}
	}
	s["description"] = d.desc
	if d.example != nil {
		s["examples"] = []any{d.example}
	}
	if readOnly {
		s["readOnly"] = true
	}
	return s
}

func relDesc(rs *resource, name string) string {
	if d, ok := relDocs[rs.typ+"."+name]; ok {
		return d
	}
	return "The " + words(name) + " of the " + words(rs.typ) + "."
}

// resourceSchemas adds the schemas of rs: its records, their documents, and
// the bodies that write them.
func (g *docGen) resourceSchemas(rs *resource) {
	n := camelCase(rs.typ)
	docs := attrDocs[rs.typ]
	attrs := jmap{}
	for _, a := range rs.attrs {
		d := docs[a.name]
		attrs[a.name] = attrSchema(a, d, !d.create && !d.update)
	}
	g.schemas[n+"Attributes"] = jmap{"type": "object", "additionalProperties": false, "properties": attrs,
		"description": "Every attribute is there unless fields[" + rs.typ + "] names only some."}
	props := jmap{"id": idSchema(rs.typ), "type": jmap{"const": rs.typ}, "attributes": schemaRef(n + "Attributes")}
	required := []string{"id", "type", "attributes"}
	if len(rs.rels) > 0 {
		rels := jmap{}
		for _, name := range slices.Sorted(maps.Keys(rs.rels)) {
			rels[name] = jmap{
				"type": "object", "description": relDesc(rs, name), "required": []string{"links"},
				"properties": jmap{"links": schemaRef("RelationshipLinks"), "data": g.linkage(rs.rels[name])},
			}
		}
		g.schemas[n+"Relationships"] = jmap{"type": "object", "additionalProperties": false, "properties": rels,
			"required":    slices.Sorted(maps.Keys(rs.rels)),
			"description": "Every relationship, with data when the request included it."}
		props["relationships"] = schemaRef(n + "Relationships")
		required = append(required, "relationships")
	}
	desc := typeDocs[rs.typ]
	if desc == "" {
		desc = "The record of " + aWords(rs.typ) + "."
	}
	g.schemas[n] = jmap{"type": "object", "description": desc, "required": required, "properties": props}
	g.schemas[n+"Document"] = jmap{"type": "object", "required": []string{"data", "links"},
		"properties": jmap{"data": schemaRef(n), "included": schemaRef("Included"), "links": schemaRef("SelfLinks")}}
	g.schemas[n+"Collection"] = jmap{"type": "object", "required": []string{"data", "links", "meta"},
		"properties": jmap{"data": jmap{"type": "array", "items": schemaRef(n)}, "included": schemaRef("Included"),
			"links": schemaRef("PageLinks"), "meta": schemaRef("Meta")}}
	body := bodyDocs[rs.typ]
	if rs.create != nil {
		g.schemas[n+"Create"] = g.writeSchema(rs, true, body)
		g.schemas[n+"Created"] = jmap{"type": "object", "required": []string{"data"},
			"description": "The new record, or the new records of a bulk create.",
			"properties":  jmap{"data": jmap{"oneOf": []any{schemaRef(n), jmap{"type": "array", "items": schemaRef(n)}}}}}
	}
	if rs.update != nil {
		g.schemas[n+"Update"] = g.writeSchema(rs, false, body)
	}
}

// writeSchema is the schema of a data object of a create or update body.
func (g *docGen) writeSchema(rs *resource, create bool, body bodyDoc) jmap {
	attrs := jmap{}
	var required []string
	for _, a := range rs.attrs {
		d := attrDocs[rs.typ][a.name]
		if create && !d.create || !create && !d.update {
			continue
		}
		attrs[a.name] = attrSchema(a, d, false)
		if create && d.required {
			required = append(required, a.name)
		}
	}
	attrObj := jmap{"type": "object", "additionalProperties": false, "properties": attrs}
	if create {
		maps.Copy(attrObj, body.createAttrs)
	}
	need := []string{"type"}
	if len(required) > 0 {
		attrObj["required"] = required
		need = append(need, "attributes")
	}
	props := jmap{"type": jmap{"const": rs.typ}, "attributes": attrObj}
	what := "A new " + words(rs.typ) + "."
	out := jmap{"type": "object"}
	if create {
		if body.id != nil {
			props["id"] = body.id
		} else {
			what += " The server gives it its id: the body gives none."
			out["not"] = jmap{"required": []string{"id"}}
		}
	} else {
		id := idSchema(rs.typ)
		id["description"] = "The id of the record to change."
		props["id"] = id
		need = append(need, "id")
		what = "Changes to " + aWords(rs.typ) + ": only the attributes given change; a to-many relationship " +
			"given replaces the old set."
	}
	rels, choose := body.update, ""
	if create {
		rels, choose = body.create, body.choose
	}
	relObj := jmap{"type": "object", "additionalProperties": false, "properties": jmap{}}
	var relsRequired []string
	var alternatives []any
	for _, r := range rels {
		typ := r.typ
		if typ == "" {
			typ = rs.rels[r.name].typ
		}
		data := g.identifier(typ)
		if r.toMany {
			data = jmap{"type": "array", "items": data}
			if r.minItems > 0 {
				data["minItems"] = r.minItems
			}
		}
		relObj["properties"].(jmap)[r.name] = jmap{"type": "object", "description": r.desc,
			"required": []string{"data"}, "properties": jmap{"data": data}}
		if r.required {
			relsRequired = append(relsRequired, r.name)
		}
		alternatives = append(alternatives, jmap{"required": []string{r.name}})
	}
	if len(relsRequired) > 0 {
		relObj["required"] = relsRequired
	}
	switch choose {
	case "one":
		relObj["oneOf"] = alternatives
		relObj["description"] = "Exactly one of these."
	case "any":
		relObj["anyOf"] = alternatives
		relObj["description"] = "At least one of these."
	}
	if len(relsRequired) > 0 || choose != "" {
		need = append(need, "relationships")
	}
	if len(rels) == 0 {
		relObj["description"] = "None: this body sets no relationship."
	}
	props["relationships"] = relObj
	out["description"], out["required"], out["properties"] = what, need, props
	return out
}

// tag adds an OpenAPI tag and returns its name.
func (g *docGen) tag(name, desc string) string {
	g.tags[name] = desc
	return name
}

// resourceTag is the OpenAPI tag of rs.
func (g *docGen) resourceTag(rs *resource) string {
	desc := typeDocs[rs.typ]
	if desc == "" {
		desc = "The " + words(rs.path) + "."
	}
	return g.tag(rs.path, desc)
}

// attrNames lists the names of rs's attributes of the given kinds, with id
// first when it is one of them.
func attrNames(rs *resource, withID bool, kinds ...kind) []string {
	var out []string
	if withID {
		out = append(out, "id")
	}
	for _, a := range rs.attrs {
		if slices.Contains(kinds, a.kind) {
			out = append(out, a.name)
		}
	}
	return out
}

// filterParam describes filter (or filter[]) for rs, whose attributes are
// named after prefix.
func filterParam(name string, rs *resource, prefix string) jmap {
	keys := attrNames(rs, true, kString, kBool, kInt, kTime)
	var parts []string
	if s := attrNames(rs, true, kString); len(s) > 0 {
		parts = append(parts, "text ones ("+strings.Join(s, ", ")+") an exact value, a|b|c for any of them, or "+
			"/regex/")
	}
	if s := attrNames(rs, false, kBool); len(s) > 0 {
		parts = append(parts, "booleans ("+strings.Join(s, ", ")+") 1, t, true, y, yes or 0, f, false, n, no")
	}
	if s := attrNames(rs, false, kInt); len(s) > 0 {
		parts = append(parts, "integers ("+strings.Join(s, ", ")+") a number")
	}
	if s := attrNames(rs, false, kTime); len(s) > 0 {
		t := "times (" + strings.Join(s, ", ") + ") an ISO 8601 time"
		if r := slices.Sorted(maps.Keys(rs.rangeOK)); len(r) > 0 {
			t += ", and " + strings.Join(r, ", ") + " also a range a..b, a.. or ..b (inclusive)"
		}
		parts = append(parts, t)
	}
	desc := "Keeps the records whose attribute matches: " + prefix + "<attribute>:<value>; repeat it to " +
		"ask for several matches at once. Attributes take: " + strings.Join(parts, "; ") + "."
	if name == "filter[]" {
		desc = "The same as filter."
	}
	return jmap{
		"name": name, "in": "query", "style": "form", "explode": true, "description": desc,
		"schema": jmap{"type": "array", "items": jmap{"type": "string",
			"pattern": "^" + regexp.QuoteMeta(prefix) + "(" + strings.Join(keys, "|") + "):"}},
	}
}

// includable lists the relationships of rs an include may name.
func (g *docGen) includable(rs *resource) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(rs.rels)) {
		if spec := rs.rels[name]; spec.includable && g.s.resources[spec.typ] != nil {
			out = append(out, name)
		}
	}
	return out
}

// readParams are the parameters of the GETs of rs's records.
func (g *docGen) readParams(rs *resource) []any {
	var out []any
	if inc := g.includable(rs); len(inc) > 0 {
		out = append(out, jmap{
			"name": "include", "in": "query", "style": "form", "explode": false,
			"description": "Relationships whose records to add to included, comma-separated; a dotted path " +
				"follows further relationships (contacts.media). The records' relationships gain their " +
				"linkage. Includable from " + aWords(rs.typ) + ": " + strings.Join(inc, ", ") + ".",
			"schema": jmap{"type": "array", "items": jmap{"type": "string",
				"pattern": "^(" + strings.Join(inc, "|") + ")(\\.[a-z_]+)*$"}},
		})
	}
	for _, other := range g.sorted() {
		out = append(out, paramRef("fields_"+other.typ))
	}
	return out
}

// collections describes the collection route of every resource.
func (g *docGen) collections(_, _ string) {
	for _, rs := range g.sorted() {
		n, path, tag := camelCase(rs.typ), "/"+rs.path, g.resourceTag(rs)
		plural := words(rs.path)
		op := g.operation(tag, "list"+camelCase(rs.path), "List "+plural,
			"Lists the "+plural+", a page at a time, sorted by id unless sort says otherwise. filter "+
				"selects records, include adds related ones, fields narrows the attributes shown.", false)
		params := []any{filterParam("filter", rs, ""), filterParam("filter[]", rs, ""), jmap{
			"name": "sort", "in": "query", "style": "form", "explode": false,
			"description": "Sort keys, comma-separated, each with its sign: +name ascending, -name descending " +
				"(send + as %2B). Records that compare equal are sorted by id.",
			"schema": jmap{"type": "array", "items": jmap{"type": "string",
				"pattern": "^[+-](" + strings.Join(attrNames(rs, true, kString, kBool, kInt, kTime), "|") + ")$"}},
		}, paramRef("page"), paramRef("per_page")}
		op["parameters"] = append(params, g.readParams(rs)...)
		respond(op, 200, withHeaders(docResponse("A page of "+plural+".", schemaRef(n+"Collection")), "Link", "Total-Count"))
		respond(op, 403, respRef("InvalidQuery"))
		g.put(path, "get", op)
		if rs.create != nil {
			op := g.operation(tag, "create"+camelCase(rs.path), "Create "+plural,
				"Creates "+aWords(rs.typ)+" (data is an object) or several (data is an array, with the bulk "+
					"extension). Every record is validated before any is saved: one refused record refuses "+
					"them all. The answer holds the new records, and Location names them.", true)
			op["requestBody"] = jsonBody(schemaRef(n+"Create"), schemaRef(n+"Create"))
			respond(op, 201, withHeaders(docResponse("Created.", schemaRef(n+"Created")), "Location"))
			bodyErrors(op, why404Write, "An id is already taken (\"<Types> already exist with the following "+
				"ids: …\"), or a data object's type is not the endpoint's.")
			g.put(path, "post", op)
		}
		if rs.update != nil {
			op := g.operation(tag, "update"+camelCase(rs.path), "Update "+plural,
				"Changes several "+plural+" at once: data is an array of objects, each with its id (bulk "+
					"extension). Every change is validated before any is saved. A single record is changed "+
					"at "+path+"/{id}.", true)
			op["requestBody"] = jsonBody(nil, schemaRef(n+"Update"))
			respond(op, 204, jmap{"description": "Changed."})
			bodyErrors(op, why404Write+" Also a single object: PATCH one record at its own URL.", why409Type)
			g.put(path, "patch", op)
		}
		if rs.remove != nil {
			op := g.operation(tag, "delete"+camelCase(rs.path), "Delete "+plural,
				"Deletes several "+plural+" at once: data is an array of their identifiers (bulk extension). "+
					"Nothing is deleted unless every one exists.", true)
			op["requestBody"] = jsonBody(nil, g.identifier(rs.typ))
			respond(op, 204, jmap{"description": "Deleted."})
			bodyErrors(op, "Not every record exists (\"Could not find all records to delete\").", why409Type)
			g.put(path, "delete", op)
		}
	}
}

// idParam is the id in the path of a record of rs.
func idParam(rs *resource) jmap {
	return jmap{"name": "id", "in": "path", "required": true, "description": "The " + words(rs.typ) + "'s id.",
		"schema": idSchema(rs.typ)}
}

// records describes the route of single records of every resource.
func (g *docGen) records(_, _ string) {
	for _, rs := range g.sorted() {
		n, path, tag, one := camelCase(rs.typ), "/"+rs.path+"/{id}", g.resourceTag(rs), words(rs.typ)
		missing := "There is no " + one + " with that id (\"could not find " + rs.title + " record, id: '<id>'\")."
		g.pathParams(path, idParam(rs))
		op := g.operation(tag, "get"+n, "Get "+aWords(rs.typ),
			"Reads one "+one+". include adds related records, fields narrows the attributes shown.", false)
		op["parameters"] = g.readParams(rs)
		respond(op, 200, docResponse("The "+one+".", schemaRef(n+"Document")))
		respond(op, 403, respRef("InvalidQuery"))
		respond(op, 404, errorResponse(missing))
		g.put(path, "get", op)
		if rs.update != nil {
			op := g.operation(tag, "update"+n, "Update "+aWords(rs.typ),
				"Changes one "+one+": data is an object with the id of the path. Only the attributes given "+
					"change; a to-many relationship given replaces the old set.", true)
			op["requestBody"] = jsonBody(schemaRef(n+"Update"), nil)
			respond(op, 204, jmap{"description": "Changed."})
			bodyErrors(op, missing+" Or: "+why404Write, "The body's id is not the path's (\"Id path/data "+
				"mismatch\"), or its type is not the endpoint's.")
			g.put(path, "patch", op)
		}
		if rs.remove != nil {
			op := g.operation(tag, "delete"+n, "Delete "+aWords(rs.typ), "Deletes one "+one+".", true)
			respond(op, 204, jmap{"description": "Deleted."})
			respond(op, 403, respRef("ReadOnlyToken"))
			respond(op, 404, errorResponse(missing))
			g.put(path, "delete", op)
		}
	}
}

// relationships describes the relationship routes of every resource: their
// linkage and, where writable, its writes.
func (g *docGen) relationships(_, _ string) { g.relRoutes(true) }

// related describes the /{type}/{id}/{rel} routes.
func (g *docGen) related(_, _ string) { g.relRoutes(false) }

func (g *docGen) relRoutes(linkage bool) {
	for _, rs := range g.sorted() {
		n, tag, one := camelCase(rs.typ), g.resourceTag(rs), words(rs.typ)
		for _, name := range slices.Sorted(maps.Keys(rs.rels)) {
			spec := rs.rels[name]
			path := "/" + rs.path + "/{id}/" + name
			id := "get" + n + camelCase(name)
			desc := "Reads the linkage of the " + one + "'s " + words(name) + " relationship: the type and id " +
				"of each related record. "
			if linkage {
				path = "/" + rs.path + "/{id}/relationships/" + name
				id += "Relationship"
			} else {
				desc = "The same as GET /" + rs.path + "/{id}/relationships/" + name + ": the linkage of the " + one +
					"'s " + words(name) + " relationship. "
				if slices.Contains(g.includable(rs), name) {
					desc += "With include=" + name + ", the records themselves too. "
				}
			}
			desc += relDesc(rs, name)
			g.pathParams(path, idParam(rs))
			summary := "Get the " + words(name) + " of " + aWords(rs.typ)
			if linkage {
				summary = "Get the linkage of the " + words(name) + " of " + aWords(rs.typ)
			}
			op := g.operation(tag, id, summary, desc, false)
			op["parameters"] = g.linkageParams(name, spec)
			resp := docResponse("The linkage.", g.linkageDocument(spec))
			if spec.toMany {
				resp = withHeaders(resp, "Link", "Total-Count")
			}
			respond(op, 200, resp)
			respond(op, 403, respRef("InvalidQuery"))
			respond(op, 404, errorResponse("There is no "+one+" with that id."))
			g.put(path, "get", op)
			if !linkage || !spec.toMany || !rs.writable[name] || rs.link == nil {
				continue
			}
			missing := "There is no " + one + " with that id, or a record the body names does not exist."
			for _, w := range []struct{ method, verb, summary, desc string }{
				{"post", "add", "Add to", "Adds records to the " + one + "'s " + words(name) + ": data lists their " +
					"identifiers; those already there stay."},
				{"patch", "replace", "Replace", "Replaces the " + one + "'s " + words(name) + " with the records data lists; " +
					"an empty array or null leaves none."},
				{"delete", "remove", "Remove from", "Takes the records data lists from the " + one + "'s " + words(name) + "."},
			} {
				op := g.operation(tag, w.verb+n+camelCase(name), w.summary+" the "+words(name)+" of "+aWords(rs.typ), w.desc, true)
				data := jmap{"type": "array", "items": g.identifier(spec.typ)}
				if w.method == "patch" {
					data["type"] = []string{"array", "null"}
				} else {
					data["minItems"] = 1
				}
				op["requestBody"] = jmap{"required": true, "content": jmap{MediaType: jmap{"schema": jmap{
					"type": "object", "required": []string{"data"}, "properties": jmap{"data": data}}}}}
				respond(op, 204, jmap{"description": "Done."})
				respond(op, 400, respRef("UnreadableBody"))
				respond(op, 403, errorResponse("The linkage is malformed, of another type, empty (\"No link ids\") "+
					"or refused by validation; or the token is read-only."))
				respond(op, 404, errorResponse(missing))
				respond(op, 405, respRef("FormBody"))
				respond(op, 415, respRef("NotJSONAPI"))
				g.put(path, w.method, op)
			}
		}
	}
}

// linkageParams are the parameters of a relationship's GETs.
func (g *docGen) linkageParams(name string, spec relSpec) []any {
	var out []any
	target := g.s.resources[spec.typ]
	if target != nil {
		out = append(out, filterParam("filter", target, name+"."), filterParam("filter[]", target, name+"."))
	}
	if spec.toMany {
		out = append(out, paramRef("page"), paramRef("per_page"))
	}
	if spec.includable && target != nil {
		out = append(out, jmap{"name": "include", "in": "query",
			"description": "include=" + name + " adds the related records to included.",
			"schema":      jmap{"type": "string", "enum": []string{name}}})
	}
	return out
}

// linkageDocument is the schema of a relationship GET's answer.
func (g *docGen) linkageDocument(spec relSpec) jmap {
	props := jmap{"data": g.linkage(spec), "links": schemaRef("SelfLinks")}
	required := []string{"data", "links"}
	if spec.toMany {
		props["links"], props["meta"] = schemaRef("PageLinks"), schemaRef("Meta")
		required = append(required, "meta")
	}
	if target := g.s.resources[spec.typ]; target != nil && spec.includable {
		props["included"] = jmap{"type": "array", "items": schemaRef(camelCase(target.typ)),
			"description": "The related records, with include."}
	}
	return jmap{"type": "object", "required": required, "properties": props}
}
