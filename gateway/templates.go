package gateway

import (
	"cmp"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"slices"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/x/flapjack"
)

// The template names. A gateway asks for the alert forms; [Templates.Render] picks
// the rollup form itself when the alert is a rollup.
const (
	AlertTemplate         = "alert"
	RollupTemplate        = "rollup"
	AlertSubjectTemplate  = "alert_subject"
	RollupSubjectTemplate = "rollup_subject"
)

// The template formats: text/template for "text", html/template (which escapes
// every value) for "html".
const (
	FormatText = "text"
	FormatHTML = "html"
)

// ErrNoTemplate is returned by Render when a gateway has no template of the name
// and format asked for.
var ErrNoTemplate = errors.New("no such template")

// Templates holds the message templates of every gateway, keyed by gateway (the
// family, normally the transport name), template name and format. It is the one
// place message texts come from, so that a user can replace any of them.
//
// A Templates is safe for concurrent use; overriding a template while others
// render is allowed, each Render seeing either the old or the new one.
type Templates struct {
	mu  sync.RWMutex
	set map[templateKey]executor
}

type templateKey struct{ family, name, format string }

// executor is what text/template and html/template templates have in common.
type executor interface {
	Execute(w io.Writer, data any) error
}

// DefaultTemplates returns a new Templates holding the built-in texts of Flapjack
// v2, one family per gateway:
//
//   - sms, sms_twilio, sms_nexmo, sms_aspsms, threema, slack: alert.text and
//     rollup.text, the short SMS form;
//   - sns: the SMS texts, plus alert_subject.text and rollup_subject.text as for
//     email;
//   - jabber: alert.text (with the ACKID hint when .Extra.alias is set) and
//     rollup.text;
//   - pagerduty: alert.text only, as PagerDuty media never roll up;
//   - email: the subjects, and alert and rollup bodies in text and html;
//   - log: alert.text and rollup.text, the log line form.
//
// Length limits are not applied here: each gateway cuts its text with [Truncate].
// Each call returns an independent copy, so overriding a template in one does not
// change another.
func DefaultTemplates() *Templates {
	builtin := parsedBuiltins()
	t := &Templates{set: make(map[templateKey]executor, len(builtin))}
	for k, v := range builtin {
		t.set[k] = v
	}
	return t
}

// Override replaces, or adds, one template of a gateway family. key has the form
// "<name>.<format>" used by the templates table of a gateway's configuration:
// "alert.text", "rollup.text", "alert_subject.text", "rollup_subject.text",
// "alert.html" or "rollup.html". A family that does not exist yet is created, which
// is how a custom gateway gets its texts. The template is parsed at once, so a
// mistake is reported here and not at the first alert.
func (t *Templates) Override(family, key, text string) error {
	name, format, err := parseTemplateKey(key)
	if err != nil {
		return fmt.Errorf("template %q of gateway %q: %w", key, family, err)
	}
	if family == "" {
		return fmt.Errorf("template %q: empty gateway name", key)
	}
	ex, err := parseTemplate(key, format, text)
	if err != nil {
		return fmt.Errorf("template %q of gateway %q: %w", key, family, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.set == nil {
		t.set = map[templateKey]executor{}
	}
	t.set[templateKey{family, name, format}] = ex
	return nil
}

func parseTemplateKey(key string) (name, format string, err error) {
	name, format, ok := strings.Cut(key, ".")
	if !ok {
		return "", "", errors.New(`want "<name>.<format>", such as "alert.text"`)
	}
	switch name {
	case AlertTemplate, RollupTemplate, AlertSubjectTemplate, RollupSubjectTemplate:
	default:
		return "", "", fmt.Errorf("unknown template name %q (want alert, rollup, alert_subject or rollup_subject)", name)
	}
	if format != FormatText && format != FormatHTML {
		return "", "", fmt.Errorf("unknown template format %q (want text or html)", format)
	}
	return name, format, nil
}

// templateFuncs are the functions every template may call besides the methods of
// TemplateData.
var templateFuncs = map[string]any{
	"words": DurationWords,
	"human": HumanDuration,
}

func parseTemplate(key, format, text string) (executor, error) {
	if format == FormatHTML {
		return htmltemplate.New(key).Funcs(templateFuncs).Parse(text)
	}
	return texttemplate.New(key).Funcs(templateFuncs).Parse(text)
}

// Render renders one message for a, with the template of the given gateway family,
// name and format. Gateways ask for "alert" or "alert_subject": when a is a rollup
// alert (a.Rollup set) the "rollup" or "rollup_subject" template is used instead,
// so that no gateway repeats that choice. extra holds gateway-specific values that
// templates read as .Extra (jabber's "alias", for instance); it may be nil.
func (t *Templates) Render(family, name, format string, a *flapjack.Alert, extra map[string]any) (string, error) {
	if a == nil {
		return "", errors.New("render: nil alert")
	}
	if a.Rollup != flapjack.NoRollup {
		switch name {
		case AlertTemplate:
			name = RollupTemplate
		case AlertSubjectTemplate:
			name = RollupSubjectTemplate
		}
	}
	t.mu.RLock()
	ex := t.set[templateKey{family, name, format}]
	t.mu.RUnlock()
	if ex == nil {
		return "", fmt.Errorf("render %s.%s for gateway %q: %w", name, format, family, ErrNoTemplate)
	}
	var b strings.Builder
	if err := ex.Execute(&b, TemplateData{Alert: a, Extra: extra}); err != nil {
		return "", fmt.Errorf("render %s.%s for gateway %q: %w", name, format, family, err)
	}
	return b.String(), nil
}

// Families lists the gateway families that have at least one template, sorted.
func (t *Templates) Families() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []string
	for k := range t.set {
		if !slices.Contains(out, k.family) {
			out = append(out, k.family)
		}
	}
	slices.Sort(out)
	return out
}

// TemplateData is what a template sees: the alert's own fields and methods (such
// as .CheckName, .Summary, .State, .LastState, .Time, .ConditionDuration,
// .AcknowledgementDuration, .EventHash, .ContactName, .RollupThreshold), the
// values derived from them below, and .Extra.
//
// Besides these, templates may call "words" (DurationWords: "1 day, 2 minutes")
// and "human" (HumanDuration: "2 mins 5 secs") on a duration.
type TemplateData struct {
	*flapjack.Alert
	// Extra holds the values a gateway passes to Render.
	Extra map[string]any
}

// TypeSentenceCase names what the alert announces: "Problem", "Recovery",
// "Acknowledgement" or "Test"; "Problem summary" for a rollup problem and
// "Problem summaries finishing" for a rollup recovery.
func (d TemplateData) TypeSentenceCase() string {
	switch d.Rollup {
	case flapjack.RollupProblem:
		return "Problem summary"
	case flapjack.RollupRecovery:
		return "Problem summaries finishing"
	}
	return titleCase(string(d.Type))
}

// StateTitleCase is the state (action, or else condition) as people read it:
// "OK", "Critical", "Acknowledgement", "Test Notifications"…
func (d TemplateData) StateTitleCase() string { return titleCase(d.State()) }

// LastStateTitleCase is the previous alert's state read the same way; empty when
// the medium had no previous alert.
func (d TemplateData) LastStateTitleCase() string { return titleCase(d.LastState()) }

// When is the alert time in the short form of chat and SMS texts, e.g.
// "1 Feb 12:00"; empty for a zero time. Times are shown in the location of
// a.Time, which the notifier sets.
func (d TemplateData) When() string {
	if d.Time.IsZero() {
		return ""
	}
	return d.Time.Format("2 Jan 15:04")
}

// LocalTime is the alert time in full, e.g. "2016-02-01 12:00:00 +0000"; empty
// for a zero time.
func (d TemplateData) LocalTime() string {
	if d.Time.IsZero() {
		return ""
	}
	return d.Time.Format("2006-01-02 15:04:05 -0700")
}

// RollupGroup is the checks of a rollup alert in one condition.
type RollupGroup struct {
	Condition flapjack.Condition
	Checks    []string
}

// RollupGroups returns the non-empty groups of a.RollupStates, most severe first,
// so that texts list them in a stable, meaningful order.
func (d TemplateData) RollupGroups() []RollupGroup {
	var out []RollupGroup
	for c, names := range d.RollupStates {
		if len(names) > 0 {
			out = append(out, RollupGroup{Condition: c, Checks: names})
		}
	}
	slices.SortFunc(out, func(a, b RollupGroup) int {
		if s := cmp.Compare(b.Condition.Severity(), a.Condition.Severity()); s != 0 {
			return s
		}
		return cmp.Compare(a.Condition, b.Condition)
	})
	return out
}

// RollupCheck is one check of a rollup alert.
type RollupCheck struct {
	Name      string
	Condition flapjack.Condition
}

// StateTitleCase is the check's condition as people read it.
func (c RollupCheck) StateTitleCase() string { return titleCase(string(c.Condition)) }

// RollupChecks lists every check of a rollup alert, most severe first, then by
// name.
func (d TemplateData) RollupChecks() []RollupCheck {
	var out []RollupCheck
	for _, g := range d.RollupGroups() {
		names := slices.Clone(g.Checks)
		slices.Sort(names)
		for _, n := range names {
			out = append(out, RollupCheck{Name: n, Condition: g.Condition})
		}
	}
	return out
}

// RollupStatesSummary counts a rollup's checks per condition, e.g.
// "Critical: 2, Warning: 1"; empty when there are none.
func (d TemplateData) RollupStatesSummary() string {
	var parts []string
	for _, g := range d.RollupGroups() {
		parts = append(parts, fmt.Sprintf("%s: %d", g.Condition.Title(), len(g.Checks)))
	}
	return strings.Join(parts, ", ")
}

// RollupStatesDetailText names a rollup's checks per condition, at most
// maxPerState of them (all when maxPerState ≤ 0) followed by "..." when some were
// left out, e.g. "Critical: a, b, ...; Warning: c".
func (d TemplateData) RollupStatesDetailText(maxPerState int) string {
	var parts []string
	for _, g := range d.RollupGroups() {
		names := g.Checks
		if maxPerState > 0 && len(names) > maxPerState {
			names = append(slices.Clone(names[:maxPerState]), "...")
		}
		parts = append(parts, g.Condition.Title()+": "+strings.Join(names, ", "))
	}
	return strings.Join(parts, "; ")
}

// ShowsDuration reports whether the condition has lasted long enough (over 40
// seconds) for its duration to be worth a line of an email.
func (d TemplateData) ShowsDuration() bool { return d.ConditionDuration > 40*time.Second }
