package client

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/x/flapjack"
)

// Target names what an action or a scheduled maintenance applies to: one check,
// or every check with a tag. Exactly one of the fields is set.
type Target struct {
	CheckID string
	Tag     string
}

// ForCheck targets the check with id.
func ForCheck(id string) Target { return Target{CheckID: id} }

// ForTag targets every check tagged tag.
func ForTag(tag string) Target { return Target{Tag: tag} }

func (t Target) rels() map[string]wireRel {
	out := map[string]wireRel{}
	if t.CheckID != "" {
		out["check"] = toOne("check", t.CheckID)
	}
	if t.Tag != "" {
		out["tag"] = toOne("tag", t.Tag)
	}
	return out
}

// Maintenance is a scheduled or unscheduled maintenance of one check.
type Maintenance struct {
	ID        string    `json:"-"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	Summary   string    `json:"summary,omitempty"`
	// CheckID is the check's id when the answer carried the linkage (Include
	// "check").
	CheckID       string              `json:"-"`
	Relationships map[string][]string `json:"-"`
}

func (m *Maintenance) fill(id string, rels map[string][]string) {
	m.ID, m.Relationships = id, rels
	if c := rels["check"]; len(c) == 1 {
		m.CheckID = c[0]
	}
}

// ScheduledMaintenanceService manages /scheduled_maintenances.
type ScheduledMaintenanceService struct {
	service[Maintenance, *Maintenance]
}

// Create schedules a maintenance of the target from start to end. For a tag,
// every tagged check gets its own maintenance: all are returned.
func (s *ScheduledMaintenanceService) Create(ctx context.Context, t Target, start, end time.Time, summary string) ([]*Maintenance, error) {
	o := wireObject{Type: "scheduled_maintenance", Attributes: attrs(Maintenance{StartTime: start, EndTime: end, Summary: summary}), Relationships: t.rels()}
	return s.create(ctx, []wireObject{o}, false)
}

// Update changes the maintenance id: Attrs{"end_time": t, "summary": "…"}.
func (s *ScheduledMaintenanceService) Update(ctx context.Context, id string, a Attrs) error {
	return s.update(ctx, "scheduled_maintenance", id, a, nil)
}

// DeleteMany deletes several scheduled maintenances in one request.
func (s *ScheduledMaintenanceService) DeleteMany(ctx context.Context, ids ...string) error {
	return s.deleteMany(ctx, "scheduled_maintenance", ids)
}

// UnscheduledMaintenanceService manages /unscheduled_maintenances, which
// acknowledgements create.
type UnscheduledMaintenanceService struct {
	service[Maintenance, *Maintenance]
}

// Update changes the maintenance id: Attrs{"end_time": t, "summary": "…"}.
func (s *UnscheduledMaintenanceService) Update(ctx context.Context, id string, a Attrs) error {
	return s.update(ctx, "unscheduled_maintenance", id, a, nil)
}

// End ends the maintenance id at end; End(ctx, id, time.Now()) ends it now,
// which clears an acknowledgement.
func (s *UnscheduledMaintenanceService) End(ctx context.Context, id string, end time.Time) error {
	return s.Update(ctx, id, Attrs{"end_time": end.UTC().Format(time.RFC3339)})
}

// DeleteMany deletes several unscheduled maintenances in one request.
func (s *UnscheduledMaintenanceService) DeleteMany(ctx context.Context, ids ...string) error {
	return s.deleteMany(ctx, "unscheduled_maintenance", ids)
}

// State is one state change of a check.
type State struct {
	ID        string          `json:"-"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Condition string          `json:"condition"`
	Action    string          `json:"action"`
	Summary   string          `json:"summary"`
	Details   string          `json:"details"`
	Perfdata  json.RawMessage `json:"perfdata"`
	// CheckID is set when the answer carried the linkage (Include "check").
	CheckID       string              `json:"-"`
	Relationships map[string][]string `json:"-"`
}

func (s *State) fill(id string, rels map[string][]string) {
	s.ID, s.Relationships = id, rels
	if c := rels["check"]; len(c) == 1 {
		s.CheckID = c[0]
	}
}

// StateService reads /states.
type StateService struct{ service[State, *State] }

// CreatedBetween returns the filter of states created from start to end; a zero
// time leaves that side open.
func CreatedBetween(start, end time.Time) string {
	return "created_at:" + rfc3339(start) + ".." + rfc3339(end)
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Statistic is the event counters of one processor instance ("global" for all).
type Statistic struct {
	ID            string    `json:"-"`
	InstanceName  string    `json:"instance_name"`
	CreatedAt     time.Time `json:"created_at"`
	AllEvents     int64     `json:"all_events"`
	OKEvents      int64     `json:"ok_events"`
	FailureEvents int64     `json:"failure_events"`
	ActionEvents  int64     `json:"action_events"`
	InvalidEvents int64     `json:"invalid_events"`
}

func (s *Statistic) fill(id string, _ map[string][]string) { s.ID = id }

// StatisticService reads /statistics.
type StatisticService struct{ service[Statistic, *Statistic] }

// Metrics is the JSON:API metrics singleton.
type Metrics struct {
	// TotalKeys is the number of keys (records, in memory) the store holds;
	// nil when the store does not count them.
	TotalKeys        *int64              `json:"total_keys"`
	EventQueueLength int64               `json:"event_queue_length"`
	ProcessedEvents  flapjack.Statistics `json:"processed_events"`
	CheckFreshness   map[string]int64    `json:"check_freshness"`
	CheckCounts      map[string]int64    `json:"check_counts"`
}

// Metrics gets GET /metrics as JSON:API; fields, when given, restricts the
// attributes to those named.
func (c *Client) Metrics(ctx context.Context, fields ...string) (*Metrics, error) {
	q := map[string][]string{}
	if len(fields) > 0 {
		q["fields"] = []string{strings.Join(fields, ",")}
	}
	_, b, err := c.do(ctx, http.MethodGet, "/metrics", q, "", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data struct {
			Attributes Metrics `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	return &doc.Data.Attributes, nil
}

// action posts an action object and returns the ids the server gave.
func (c *Client) action(ctx context.Context, path, typ string, a any, t Target) ([]string, error) {
	o := wireObject{Type: typ, Attributes: attrs(a), Relationships: t.rels()}
	_, b, err := c.do(ctx, http.MethodPost, path, nil, MediaType, map[string]any{"data": o})
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	var objs []wireObject
	if d := strings.TrimSpace(string(doc.Data)); strings.HasPrefix(d, "[") {
		err = json.Unmarshal(doc.Data, &objs)
	} else {
		objs = make([]wireObject, 1)
		err = json.Unmarshal(doc.Data, &objs[0])
	}
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(objs))
	for _, o := range objs {
		ids = append(ids, o.ID)
	}
	return ids, nil
}

// Acknowledgement acknowledges failing checks.
type Acknowledgement struct {
	// Duration is how long the acknowledgement lasts; 0 for the server default
	// of 4 hours. It is sent in whole seconds.
	Duration time.Duration
	Summary  string
}

// Acknowledge acknowledges the failing checks of the target: the server queues
// an acknowledgement event for each. It returns the ids of the answer.
func (c *Client) Acknowledge(ctx context.Context, t Target, a Acknowledgement) ([]string, error) {
	body := struct {
		Duration int64  `json:"duration,omitempty"`
		Summary  string `json:"summary,omitempty"`
	}{int64(a.Duration / time.Second), a.Summary}
	return c.action(ctx, "/acknowledgements", "acknowledgement", body, t)
}

// TestNotification asks for test alerts.
type TestNotification struct {
	// Condition is critical, warning or unknown; empty for the server's default.
	Condition string
	Summary   string
}

// SendTestNotification queues a test notification event for each check of the
// target. It returns the ids of the answer.
func (c *Client) SendTestNotification(ctx context.Context, t Target, n TestNotification) ([]string, error) {
	body := struct {
		Condition string `json:"condition,omitempty"`
		Summary   string `json:"summary,omitempty"`
	}{n.Condition, n.Summary}
	return c.action(ctx, "/test_notifications", "test_notification", body, t)
}

// EventsReply is the answer of POST /events.
type EventsReply struct {
	// Accepted counts the events queued.
	Accepted int `json:"accepted"`
	// Rejected lists the invalid events; the valid ones of the same request are
	// queued all the same.
	Rejected []RejectedEvent `json:"rejected"`
}

// RejectedEvent is one invalid event.
type RejectedEvent struct {
	Index  int      `json:"index"`
	Errors []string `json:"errors"`
}

// SendEvents posts events to /events, one as an object, several as an array.
// When some events are invalid the reply lists them; when none is valid the
// error is an *Error with status 422 and the reply is returned as well.
func (c *Client) SendEvents(ctx context.Context, events ...flapjack.Event) (*EventsReply, error) {
	var body any = events
	if len(events) == 1 {
		body = events[0]
	}
	_, b, err := c.do(ctx, http.MethodPost, "/events", nil, "application/json", body)
	var reply EventsReply
	if jerr := json.Unmarshal(b, &reply); jerr != nil || (reply.Accepted == 0 && reply.Rejected == nil) {
		if err != nil {
			return nil, err
		}
		if jerr != nil {
			return nil, jerr
		}
	}
	if e, ok := err.(*Error); ok && len(reply.Rejected) > 0 {
		e.Details = nil
		for _, r := range reply.Rejected {
			e.Details = append(e.Details, r.Errors...)
		}
	}
	return &reply, err
}
