package setup

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StrictDecode decodes node into v (a pointer to a struct) after checking that every
// key of the mapping is a field of the struct, so that a misspelt key is reported
// with its line instead of being ignored. Nested types enforce the same through their
// own UnmarshalYAML.
func StrictDecode(n *yaml.Node, v any) error {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		if n.Kind != yaml.MappingNode {
			return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a mapping of %s", n.Line, strings.Join(yamlKeys(t), ", "))}}
		}
		known := yamlKeys(t)
		var errs []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if !slices.Contains(known, k.Value) {
				errs = append(errs, fmt.Sprintf("line %d: unknown key %q (known: %s)", k.Line, k.Value, strings.Join(known, ", ")))
			}
		}
		if len(errs) > 0 {
			// Decode the known keys all the same, so that their problems are
			// reported with these.
			var te *yaml.TypeError
			if err := n.Decode(v); errors.As(err, &te) {
				errs = append(errs, te.Errors...)
			}
			return &yaml.TypeError{Errors: errs}
		}
	}
	return n.Decode(v)
}

func yamlKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case name == "-":
			continue
		case strings.Contains(opts, "inline") && f.Type.Kind() == reflect.Struct:
			keys = append(keys, yamlKeys(f.Type)...)
			continue
		case name == "":
			name = strings.ToLower(f.Name)
		}
		keys = append(keys, name)
	}
	return keys
}

func sortStrings(s []string) { slices.Sort(s) }
