package endpoint

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

// SMS sends an alert's text as an SMS with one GET of URL whose query carries
// the text, cut to MaxLength characters.
type SMS struct {
	Transport string
	URL       *url.URL
	Timeout   time.Duration
	MaxLength int
	Client    *http.Client
	Templates *gateway.Templates
}

// Get renders the Transport template's text for a, which is sent to the phone
// number that is a's address, and GETs URL with the query query makes of the
// cut text, returning the response body. An empty address, a template that
// cannot render a, and a 4xx response other than 408 and 429 are permanent
// failures. Every error begins with the transport's name and none shows the
// URL.
func (s *SMS) Get(ctx context.Context, a *flapjack.Alert, query func(text string) url.Values) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Transport, err)
	}
	if a.Address == "" {
		return nil, gateway.Permanent(fmt.Errorf("%s: the medium has no address (phone number)", s.Transport))
	}
	text, err := s.Templates.Render(s.Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return nil, gateway.Permanent(fmt.Errorf("%s: %w", s.Transport, err))
	}
	u := *s.URL
	u.RawQuery = query(gateway.Truncate(text, s.MaxLength)).Encode()
	req := gateway.HTTPRequest{Method: http.MethodGet, URL: &u, Timeout: s.Timeout}
	body, err := req.Do(ctx, s.Client)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Transport, err)
	}
	return body, nil
}
