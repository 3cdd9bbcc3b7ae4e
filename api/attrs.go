package api

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/x/flapjack/internal/uuid"
)

// validation collects every problem of the inputs of one request.
type validation struct {
	problems []string
	// fatal, when set, is answered instead of the problems: an error with its own
	// status, such as an unknown relationship.
	fatal error
}

func (v *validation) fail(err error) {
	if v.fatal == nil {
		v.fatal = err
	}
}

func (v *validation) add(format string) { v.problems = append(v.problems, format) }

func (v *validation) err() error {
	if v.fatal != nil {
		return v.fatal
	}
	if len(v.problems) == 0 {
		return nil
	}
	return errorf(http.StatusForbidden, "Validation failed, %s", strings.Join(v.problems, ", "))
}

// str reads a string attribute; null reads as "". It reports whether it was given.
func (v *validation) str(in *input, name string, dst *string) bool {
	raw, ok := in.Attributes[name]
	if !ok {
		return false
	}
	var s *string
	if err := json.Unmarshal(raw, &s); err != nil {
		v.add(name + " must be a string")
		return true
	}
	*dst = ""
	if s != nil {
		*dst = *s
	}
	return true
}

func (v *validation) boolean(in *input, name string, dst *bool) bool {
	raw, ok := in.Attributes[name]
	if !ok {
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil || string(raw) == "null" {
		v.add(name + " must be a boolean")
	}
	return true
}

// integer reads an integer attribute ≥ lo; null sets dst to nil when nullable.
func (v *validation) integer(in *input, name string, lo int64, nullable bool, dst **int64) bool {
	raw, ok := in.Attributes[name]
	if !ok {
		return false
	}
	var n *int64
	if err := json.Unmarshal(raw, &n); err != nil {
		v.add(name + " must be an integer")
		return true
	}
	switch {
	case n == nil && !nullable:
		v.add(name + " must be an integer")
	case n != nil && *n < lo:
		v.add(name + " must be at least " + itoa(lo))
	default:
		*dst = n
	}
	return true
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// newID returns the client's id when it is a UUID, or a fresh one.
func (v *validation) newID(in *input) string {
	if in.ID == "" {
		return uuid.NewString()
	}
	if !uuidPattern.MatchString(in.ID) {
		v.add("id " + in.ID + " is not a UUID")
	}
	return strings.ToLower(in.ID)
}

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// toOne reads a to-one relationship's id; given reports whether it was in the body.
func (v *validation) toOne(in *input, name string) (id string, given bool) {
	rel, ok := in.Relationships[name]
	if !ok {
		return "", false
	}
	if rel.toMany || len(rel.ids) > 1 {
		v.add(name + " is a to-one relationship")
		return "", true
	}
	if len(rel.ids) == 1 {
		return rel.ids[0], true
	}
	return "", true
}

// toMany reads a to-many relationship's ids.
func (v *validation) toMany(in *input, name string) (ids []string, given bool) {
	rel, ok := in.Relationships[name]
	if !ok {
		return nil, false
	}
	if !rel.toMany && !rel.null {
		v.add(name + " is a to-many relationship")
		return nil, true
	}
	return rel.ids, true
}

// tagNames validates the names of tags given to a check, a contact or a rule
// and returns them as the record keeps them: lower-cased, sorted, each once;
// nil for none.
func (v *validation) tagNames(names []string) []string {
	var out []string
	for _, t := range names {
		if !tagPattern.MatchString(t) {
			v.add("tag " + t + " is not a valid tag name")
		}
		out = append(out, strings.ToLower(t))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// alreadyExist is the conflict answer for create ids in use.
func alreadyExist(title string, ids []string) error {
	return errorf(http.StatusConflict, "%s already exist with the following ids: %s", title, strings.Join(ids, ", "))
}

// jsonRaw is a json.RawMessage that tells a missing value from null.
type jsonRaw struct {
	raw   json.RawMessage
	given bool
}

func (j *jsonRaw) UnmarshalJSON(b []byte) error {
	j.raw, j.given = append(json.RawMessage(nil), b...), true
	return nil
}

func (j jsonRaw) bytes() []byte {
	if !j.given {
		return nil
	}
	return j.raw
}
