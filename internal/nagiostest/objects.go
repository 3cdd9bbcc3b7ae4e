package nagiostest

import (
	"fmt"
	"strings"
)

// Directive returns the value of directive in the first definition of kind
// (such as "service") in the object configuration objects, without its
// trailing ";" comment.
func Directive(objects, kind, directive string) (string, bool) {
	var found string
	ok := false
	eachDirective(objects, kind, func(name, value string) bool {
		if name == directive {
			found, ok = value, true
			return false
		}
		return true
	})
	return found, ok
}

// SetDirective returns objects with directive set to value in every
// definition of kind: the line setting it is replaced, or a line is added at
// the end of a definition without one. It is an error when objects has no
// definition of kind.
func SetDirective(objects, kind, directive, value string) (string, error) {
	lines := strings.SplitAfter(objects, "\n")
	var out strings.Builder
	in, set, defs := false, false, 0
	for _, line := range lines {
		text := strings.TrimSpace(stripComment(line))
		switch {
		case !in:
			if k, ok := defineKind(text); ok && k == kind {
				in, set = true, false
				defs++
			}
		case text == "}" || strings.HasSuffix(text, "}"):
			if !set {
				fmt.Fprintf(&out, "    %s    %s\n", directive, value)
			}
			in = false
		default:
			if name, _ := splitDirective(text); name == directive {
				fmt.Fprintf(&out, "    %s    %s\n", directive, value)
				set = true
				continue
			}
		}
		out.WriteString(line)
	}
	if defs == 0 {
		return "", fmt.Errorf("nagiostest: no %q definition in the objects", kind)
	}
	return out.String(), nil
}

// eachDirective calls f with every directive of every definition of kind,
// until f returns false.
func eachDirective(objects, kind string, f func(name, value string) bool) {
	in := false
	for _, line := range strings.Split(objects, "\n") {
		text := strings.TrimSpace(stripComment(line))
		switch {
		case !in:
			if k, ok := defineKind(text); ok && k == kind {
				in = true
			}
		case text == "}" || strings.HasSuffix(text, "}"):
			in = false
		case text != "":
			if !f(splitDirective(text)) {
				return
			}
		}
	}
}

// defineKind reads "define <kind> {" (or "define <kind>{").
func defineKind(text string) (string, bool) {
	rest, ok := strings.CutPrefix(text, "define")
	if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	kind, _, ok := strings.Cut(strings.TrimSpace(rest), "{")
	return strings.TrimSpace(kind), ok
}

// splitDirective splits "name value" at its first blank.
func splitDirective(text string) (string, string) {
	i := strings.IndexAny(text, " \t")
	if i < 0 {
		return text, ""
	}
	return text[:i], strings.TrimSpace(text[i:])
}

// stripComment removes a "#" comment line and a trailing ";" comment. (Nagios
// takes "\;" for a literal semicolon, which these tests do not need.)
func stripComment(line string) string {
	if t := strings.TrimSpace(line); strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
		return ""
	}
	if i := strings.IndexByte(line, ';'); i >= 0 && (i == 0 || line[i-1] != '\\') {
		return line[:i]
	}
	return line
}
