package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var durationUnits = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour,
	"w": 7 * 24 * time.Hour, "week": 7 * 24 * time.Hour, "weeks": 7 * 24 * time.Hour,
	// A year is 365.25 days, as in Flapjack v2's "100 years".
	"y": 8766 * time.Hour, "year": 8766 * time.Hour, "years": 8766 * time.Hour,
}

var durationPart = regexp.MustCompile(`^(\d+(?:\.\d+)?)\s*([a-z]+)$`)

// ParseDuration reads a duration written as people write it: "100 years",
// "2 hours, 30 minutes", "1 day and 4 hours", "90s", or a Go duration such as
// "1h30m". A bare number is seconds.
func ParseDuration(s string) (time.Duration, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	if text == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		return seconds(n)
	}
	if d, err := time.ParseDuration(text); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return d, nil
	}
	text = strings.NewReplacer(",", " ", " and ", " ").Replace(text)
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return 0, fmt.Errorf("cannot read duration %q: no number and unit", s)
	}
	var total time.Duration
	for i := 0; i < len(fields); i++ {
		part := fields[i]
		if i+1 < len(fields) && isNumber(part) {
			part += fields[i+1]
			i++
		}
		m := durationPart.FindStringSubmatch(part)
		if m == nil {
			return 0, fmt.Errorf("cannot read duration %q: %q is not a number and a unit", s, part)
		}
		unit, ok := durationUnits[m[2]]
		if !ok {
			return 0, fmt.Errorf("cannot read duration %q: unknown unit %q (use seconds, minutes, hours, days, weeks or years)", s, m[2])
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		// Beyond about 292 years a time.Duration overflows.
		d := n * float64(unit)
		if d >= math.MaxInt64 || float64(total)+d >= math.MaxInt64 {
			return 0, fmt.Errorf("duration %q is too long (at most about 290 years)", s)
		}
		total += time.Duration(d)
	}
	return total, nil
}

// seconds is n seconds as a duration.
func seconds(n int64) (time.Duration, error) {
	switch {
	case n < 0:
		return 0, fmt.Errorf("must be 0 or more seconds, not %d", n)
	case n > math.MaxInt64/int64(time.Second):
		return 0, fmt.Errorf("%d seconds is too long (at most about 290 years)", n)
	}
	return time.Duration(n) * time.Second, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// keyProblem is a problem with one key of a table ("" for the table as a whole).
type keyProblem struct {
	key string
	msg string
}

func joinProblems(problems []keyProblem) error {
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = errors.New(p.msg)
	}
	return errors.Join(errs...)
}

// decodeTable decodes a TOML table into v (a struct with json tags) through JSON;
// strict rejects keys v lacks, every one of them.
func decodeTable(t map[string]any, v any, strict bool) []keyProblem {
	if strict {
		known := jsonKeys(reflect.TypeOf(v).Elem())
		var unknown []keyProblem
		for _, k := range slices.Sorted(maps.Keys(t)) {
			if !slices.Contains(known, k) {
				unknown = append(unknown, keyProblem{k, fmt.Sprintf("unknown key %q (known: %s)", k, strings.Join(known, ", "))})
			}
		}
		if len(unknown) > 0 {
			return unknown
		}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return []keyProblem{{"", err.Error()}}
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return []keyProblem{{te.Field, fmt.Sprintf("key %q: want %s, not a %s", te.Field, te.Type, te.Value)}}
		}
		return []keyProblem{{"", strings.TrimPrefix(err.Error(), "json: ")}}
	}
	return nil
}

// jsonKeys lists the json names of a struct type's fields.
func jsonKeys(t reflect.Type) []string {
	var keys []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		keys = append(keys, name)
	}
	return keys
}
