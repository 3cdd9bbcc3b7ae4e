package gateway

import (
	"fmt"
	"sync"
)

// The built-in texts. Each says what Flapjack v2 says, in the intended form
// where its templates were broken. Single-line texts carry no trailing newline:
// gateways send them as they are.
const (
	// "Problem: 'app-01:HTTP' is Critical at 1 Feb 12:00, HTTP 500". Acks and
	// tests leave out the state, which would only repeat the type.
	smsAlert = `{{.TypeSentenceCase}}: '{{.CheckName}}'` +
		`{{if not (eq .Type "acknowledgement" "test")}} is {{.StateTitleCase}}{{end}}` +
		`{{with .When}} at {{.}}{{end}}{{with .Summary}}, {{.}}{{end}}`

	// "Problem summary: Critical: 4, Warning: 1 (Critical: a, b, c, ...; Warning: e)".
	smsRollup = `{{.TypeSentenceCase}}{{with .RollupStatesSummary}}: {{.}} ({{$.RollupStatesDetailText 3}}){{end}}`

	// The check name is in double quotes because the self check (oobetet) finds
	// it that way. Problems carry the "<alias>: ACKID <hash>" a person can reply
	// with; the alias comes from the jabber gateway as .Extra.alias.
	jabberAlert = `{{.TypeSentenceCase}}: ` +
		`{{if and (eq .Type "problem") .EventHash .Extra.alias}}{{.Extra.alias}}: ACKID {{.EventHash}}, {{end}}` +
		`"{{.CheckName}}"` + stateOrAck + `{{with .Summary}}, {{.}}{{end}}`

	jabberRollup = `{{.TypeSentenceCase}}{{with .RollupStatesSummary}}: {{.}} ({{$.RollupStatesDetailText 10}}){{end}}`

	// PagerDuty has its own acknowledgement flow, so no ACKID hint.
	pagerdutyAlert = `{{.TypeSentenceCase}}: "{{.CheckName}}"` + stateOrAck + `{{with .Summary}}, {{.}}{{end}}`

	stateOrAck = `{{if eq .Type "acknowledgement"}} has been acknowledged, unscheduled maintenance created for {{words .AcknowledgementDuration}}` +
		`{{else if ne .Type "test"}} is {{.StateTitleCase}}{{end}}`

	emailAlertSubject = `{{.TypeSentenceCase}}: '{{.CheckName}}'` +
		`{{if not (eq .Type "acknowledgement" "test")}} is {{.StateTitleCase}}{{end}}`

	emailRollupSubject = `{{.TypeSentenceCase}}{{with .RollupStatesSummary}}: {{.}}{{end}}`

	emailAlertText = `Hi{{with .ContactName}} {{.}}{{end}}

Monitoring has detected the following:

Check:            {{.CheckName}}
State:            {{.StateTitleCase}}
{{with .Summary}}Summary:          {{.}}
{{end}}{{with .Details}}Details:          {{.}}
{{end}}{{with .LocalTime}}Time:             {{.}}
{{end}}{{if .ShowsDuration}}Duration:         {{human .ConditionDuration}}
{{end}}{{with .LastStateTitleCase}}Previous State:   {{.}}
{{end}}{{with .LastSummary}}Previous Summary: {{.}}
{{end}}
Cheers,
Flapjack
`

	emailAlertHTML = emailStyle + `
<p>Hi{{with .ContactName}} {{.}}{{end}}</p>

<p>Monitoring has detected the following:</p>

<table>
  <tbody>
    <tr><td><strong>Check</strong></td><td>{{.CheckName}}</td></tr>
    <tr><td><strong>State</strong></td><td>{{.StateTitleCase}}</td></tr>
{{- with .Summary}}
    <tr><td><strong>Summary</strong></td><td>{{.}}</td></tr>
{{- end}}
{{- with .Details}}
    <tr><td><strong>Details</strong></td><td>{{.}}</td></tr>
{{- end}}
{{- with .LocalTime}}
    <tr><td><strong>Time</strong></td><td>{{.}}</td></tr>
{{- end}}
{{- if .ShowsDuration}}
    <tr><td><strong>Duration</strong></td><td>{{human .ConditionDuration}}</td></tr>
{{- end}}
{{- with .LastStateTitleCase}}
    <tr><td><strong>Previous State</strong></td><td>{{.}}</td></tr>
{{- end}}
{{- with .LastSummary}}
    <tr><td><strong>Previous Summary</strong></td><td>{{.}}</td></tr>
{{- end}}
  </tbody>
</table>

<p>Cheers,<br>
Flapjack</p>
`

	// The alert does not carry how long each check has failed, so the list is
	// ordered by severity, then name.
	emailRollupText = `Hi{{with .ContactName}} {{.}}{{end}}

{{$checks := .RollupChecks}}You have {{len $checks}} alerting check{{if ne (len $checks) 1}}s{{end}}
{{- if $checks}} as follows:

{{range $checks}}  * {{.Name}} is {{.StateTitleCase}}
{{end}}{{else}}.
{{end}}
` + rollupNote + `

Cheers,
Flapjack
`

	emailRollupHTML = emailStyle + `
<p>Hi{{with .ContactName}} {{.}}{{end}}</p>

{{$checks := .RollupChecks -}}
<p>You have {{len $checks}} alerting check{{if ne (len $checks) 1}}s{{end}}{{if $checks}} as follows:{{else}}.{{end}}</p>
{{- if $checks}}

<table>
  <tbody>
    <tr><th>Check</th><th>State</th></tr>
{{- range $checks}}
    <tr><td>{{.Name}}</td><td>{{.StateTitleCase}}</td></tr>
{{- end}}
  </tbody>
</table>
{{- end}}

<p>` + rollupNote + `</p>

<p>Cheers,<br>
Flapjack</p>
`

	rollupNote = `{{if eq .Rollup "recovery" -}}
As your email summary threshold is {{.RollupThreshold}}, we're taking your email alerts out of summary mode now. You'll now be emailed individually for each alerting check.
{{- else -}}
Your email alerts are being summarised as your email summary threshold is set to {{.RollupThreshold}}. You'll receive summary emails like this one until your number of alerting checks falls below {{.RollupThreshold}}.
{{- end}}`

	emailStyle = `<style type="text/css" media="screen">
  table { border-collapse: collapse; }
  table, th, td { border: 1px solid #666; padding: 4px; }
</style>
`

	logPrefix = `Alert via {{.Transport}}:{{.Address}} to contact {{.ContactID}} ({{.ContactName}}): {{.TypeSentenceCase}}`

	logAlert = logPrefix + ` - '{{.CheckName}}'` + stateOrAck + `{{with .Summary}} - {{.}}{{end}}`

	logRollup = logPrefix + `{{with .RollupStatesSummary}} - {{.}} ({{$.RollupStatesDetailText 3}}){{end}}`
)

// builtinFamilies maps each gateway family to its templates by key. Gateways that
// share a text get their own copy of it, so that overriding one gateway's template
// leaves the others alone, as each gateway's configuration expects.
func builtinFamilies() map[string]map[string]string {
	sms := map[string]string{"alert.text": smsAlert, "rollup.text": smsRollup}
	fams := map[string]map[string]string{
		// Slack: the same texts as SMS; v2's own slack text was a broken leftover.
		"sms": sms, "sms_twilio": sms, "sms_nexmo": sms, "sms_aspsms": sms, "threema": sms, "slack": sms,
		// SNS: the SMS texts for the body, the email subjects for the subject.
		"sns": {
			"alert.text":          smsAlert,
			"rollup.text":         smsRollup,
			"alert_subject.text":  emailAlertSubject,
			"rollup_subject.text": emailRollupSubject,
		},
		"jabber":    {"alert.text": jabberAlert, "rollup.text": jabberRollup},
		"pagerduty": {"alert.text": pagerdutyAlert},
		"email": {
			"alert_subject.text":  emailAlertSubject,
			"rollup_subject.text": emailRollupSubject,
			"alert.text":          emailAlertText,
			"alert.html":          emailAlertHTML,
			"rollup.text":         emailRollupText,
			"rollup.html":         emailRollupHTML,
		},
		"log": {"alert.text": logAlert, "rollup.text": logRollup},
	}
	return fams
}

// parsedBuiltins parses the built-in texts once; parsed templates are safe to
// share, as executing one does not change it.
var parsedBuiltins = sync.OnceValue(func() map[templateKey]executor {
	out := map[templateKey]executor{}
	for family, keys := range builtinFamilies() {
		for key, text := range keys {
			name, format, err := parseTemplateKey(key)
			if err != nil {
				panic(fmt.Sprintf("gateway: built-in template %s %s: %v", family, key, err))
			}
			ex, err := parseTemplate(key, format, text)
			if err != nil {
				panic(fmt.Sprintf("gateway: built-in template %s %s: %v", family, key, err))
			}
			out[templateKey{family, name, format}] = ex
		}
	}
	return out
})
