// Package client is a Go client for the Flapjack JSON:API (package api): checks,
// contacts, media, rules, tags, maintenances, states, statistics, metrics,
// acknowledgements, test notifications and the POST /events intake.
//
// Every call takes a context. A request the server refuses returns an *Error
// carrying the HTTP status and the details of the JSON:API error document.
//
//	c := client.New("http://127.0.0.1:3081")
//	contact, err := c.Contacts.Create(ctx, &client.Contact{Name: "Ada"})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MediaType is the JSON:API media type of requests and answers.
const MediaType = "application/vnd.api+json"

// Client talks to one Flapjack API server. It is safe for concurrent use.
type Client struct {
	base  string
	hc    *http.Client
	token string
	agent string

	Checks                  *CheckService
	Contacts                *ContactService
	Media                   *MediumService
	Rules                   *RuleService
	Tags                    *TagService
	ScheduledMaintenances   *ScheduledMaintenanceService
	UnscheduledMaintenances *UnscheduledMaintenanceService
	States                  *StateService
	Statistics              *StatisticService
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc instead of
// http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithToken sends "Authorization: Bearer <token>" with every request.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// New returns a client of the API at baseURL, such as "http://127.0.0.1:3081".
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: http.DefaultClient, agent: "flapjack-go-client"}
	for _, o := range opts {
		o(c)
	}
	c.Checks = &CheckService{service[Check, *Check]{c, "checks"}}
	c.Contacts = &ContactService{service[Contact, *Contact]{c, "contacts"}}
	c.Media = &MediumService{service[Medium, *Medium]{c, "media"}}
	c.Rules = &RuleService{service[Rule, *Rule]{c, "rules"}}
	c.Tags = &TagService{service[Tag, *Tag]{c, "tags"}}
	c.ScheduledMaintenances = &ScheduledMaintenanceService{service[Maintenance, *Maintenance]{c, "scheduled_maintenances"}}
	c.UnscheduledMaintenances = &UnscheduledMaintenanceService{service[Maintenance, *Maintenance]{c, "unscheduled_maintenances"}}
	c.States = &StateService{service[State, *State]{c, "states"}}
	c.Statistics = &StatisticService{service[Statistic, *Statistic]{c, "statistics"}}
	return c
}

// Error is an answer other than success.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Details are the details of the answer's errors, in order.
	Details []string
}

func (e *Error) Error() string {
	if len(e.Details) == 0 {
		return fmt.Sprintf("flapjack: %d %s", e.Status, http.StatusText(e.Status))
	}
	return fmt.Sprintf("flapjack: %d: %s", e.Status, strings.Join(e.Details, "; "))
}

// IsNotFound reports whether err is an *Error with status 404.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

// parseError reads an error answer: {"errors":[{"detail":…}…]}, or the
// {"error":…} of the events intake.
func parseError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var doc struct {
		Errors []struct {
			Detail string `json:"detail"`
			Title  string `json:"title"`
		} `json:"errors"`
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil {
		for _, x := range doc.Errors {
			if x.Detail != "" {
				e.Details = append(e.Details, x.Detail)
			} else if x.Title != "" {
				e.Details = append(e.Details, x.Title)
			}
		}
		if doc.Error != "" {
			e.Details = append(e.Details, doc.Error)
		}
	}
	if len(e.Details) == 0 && len(bytes.TrimSpace(body)) > 0 {
		e.Details = []string{strings.TrimSpace(string(body))}
	}
	return e
}

// do sends a request and returns the answer's header and body, with an *Error
// when its status is not 2xx.
// body, when not nil, is marshalled as JSON and sent with contentType.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, contentType string, body any) (http.Header, []byte, error) {
	var rd io.Reader
	if body != nil {
		var b []byte
		switch x := body.(type) {
		case []byte:
			b = x
		default:
			var err error
			if b, err = json.Marshal(body); err != nil {
				return nil, nil, err
			}
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", MediaType)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.agent != "" {
		req.Header.Set("User-Agent", c.agent)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.Header, nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.Header, b, parseError(resp.StatusCode, b)
	}
	return resp.Header, b, nil
}

// ListOptions are the query parameters of a collection GET.
type ListOptions struct {
	// Filter holds "attribute:value" filters, all of which must match; time
	// attributes of maintenances, states and statistics take ranges "a..b".
	Filter []string
	// Sort holds sort keys, each "+attribute" or "-attribute".
	Sort []string
	// Include names relationships whose records the answer includes (and whose
	// linkage the returned records then carry), dotted for paths: "media.rules".
	Include []string
	// Fields restricts the attributes of a type: {"contact": {"name"}}.
	Fields map[string][]string
	// Page is the page to get, from 1; PerPage its size (server default 20).
	Page, PerPage int
}

func (o *ListOptions) values() url.Values {
	v := url.Values{}
	if o == nil {
		return v
	}
	for _, f := range o.Filter {
		v.Add("filter[]", f)
	}
	if len(o.Sort) > 0 {
		v.Set("sort", strings.Join(o.Sort, ","))
	}
	if len(o.Include) > 0 {
		v.Set("include", strings.Join(o.Include, ","))
	}
	for typ, names := range o.Fields {
		v.Set("fields["+typ+"]", strings.Join(names, ","))
	}
	if o.Page > 0 {
		v.Set("page", strconv.Itoa(o.Page))
	}
	if o.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(o.PerPage))
	}
	return v
}

// Pagination is the meta.pagination of a collection answer.
type Pagination struct {
	Page       int `json:"page"`
	PerPage    int `json:"per_page"`
	TotalPages int `json:"total_pages"`
	TotalCount int `json:"total_count"`
}

// Object is a resource object as the server sent it, as in the included
// records of an answer.
type Object struct {
	Type          string
	ID            string
	Attributes    json.RawMessage
	Relationships map[string][]string
}

// Page is one page of a collection.
type Page[T any] struct {
	Items      []T
	Included   []Object
	Pagination Pagination
}
