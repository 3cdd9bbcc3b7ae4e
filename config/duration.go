package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
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
		if n < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	if d, err := time.ParseDuration(text); err == nil {
		if d < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return d, nil
	}
	text = strings.NewReplacer(",", " ", " and ", " ").Replace(text)
	fields := strings.Fields(text)
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
		total += time.Duration(n * float64(unit))
	}
	return total, nil
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// decodeTable decodes a TOML table into v (a struct with json tags) through JSON;
// strict rejects keys v lacks.
func decodeTable(t map[string]any, v any, strict bool) error {
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	return nil
}

// cleanJSONError turns encoding/json's wording into the configuration's.
func cleanJSONError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "json: ")
	msg = strings.Replace(msg, "unknown field", "unknown key", 1)
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("key %q: want %s, not a %s", te.Field, te.Type, te.Value)
	}
	return fmt.Errorf("%s", msg)
}
