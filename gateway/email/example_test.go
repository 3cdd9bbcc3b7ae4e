package email_test

import (
	"fmt"

	"github.com/x/flapjack/gateway"
	_ "github.com/x/flapjack/gateway/email"
)

// The gateway is built from its configuration section, the smtp_config table
// of [gateways.email]; every problem of the section is reported at once, and
// never with the password.
func Example() {
	_, err := gateway.New("email", gateway.MapConfig{"smtp_config": map[string]any{
		"host":           "smtp.example.com",
		"port":           587,
		"from":           "Flapjack <flapjack@example.com>",
		"authentication": "login",
		"password":       "s3cret",
		"starttls":       "sometimes",
	}}, gateway.Env{})
	fmt.Println(err)
	// Output:
	// gateway email: starttls: "sometimes" is not "auto", "always" or "never"
	// username: required with authentication login
}
