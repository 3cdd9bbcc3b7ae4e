package gateway_test

import (
	"fmt"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

func ExampleTemplates_Override() {
	a := &flapjack.Alert{
		CheckName: "db-01:disk", Type: flapjack.TypeProblem, Condition: flapjack.Warning,
		Summary: "91% full", Time: time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC),
	}
	templates := gateway.DefaultTemplates()

	before, _ := templates.Render("sms_twilio", "alert", "text", a, nil)
	fmt.Println(before)

	// The key has the form of a gateway's [templates] configuration table.
	if err := templates.Override("sms_twilio", "alert.text", `{{.StateTitleCase}} {{.CheckName}} since {{.When}}: {{.Summary}}`); err != nil {
		fmt.Println(err)
		return
	}
	after, _ := templates.Render("sms_twilio", "alert", "text", a, nil)
	fmt.Println(gateway.Truncate(after, 159))

	// Mistakes are reported when the template is set, not when an alert comes.
	fmt.Println(templates.Override("sms_twilio", "alert_text", "{{.Summary}}"))
	// Output:
	// Problem: 'db-01:disk' is Warning at 1 Feb 12:00, 91% full
	// Warning db-01:disk since 1 Feb 12:00: 91% full
	// template "alert_text" of gateway "sms_twilio": want "<name>.<format>", such as "alert.text"
}
