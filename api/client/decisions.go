package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/x/flapjack"
)

// Decision is one record of a check's decision log: what the processor made of
// an event, or whom the notifier alerted for a notification, and why.
type Decision struct {
	// Source is "processor" or "notifier".
	Source string `json:"source"`
	// Time is when the first decision the record stands for was made, Last the
	// latest; Count is how many decisions in a row it stands for.
	Time  time.Time `json:"time"`
	Last  time.Time `json:"last"`
	Count int64     `json:"count"`
	// Event is the result or action ("critical", "acknowledgement") for the
	// processor, the notification type ("problem", "recovery") for the notifier.
	Event          string `json:"event"`
	Summary        string `json:"summary"`
	Outcome        string `json:"outcome"`
	BlockedBy      string `json:"blocked_by"`
	NotificationID string `json:"notification_id"`
	// Explanation says what was decided and why in plain words.
	Explanation string                   `json:"explanation"`
	Alerts      []flapjack.DecisionAlert `json:"alerts"`
	Trace       []flapjack.TraceStep     `json:"trace"`
}

// Decisions returns the decision log of the check with id checkID, newest
// first.
func (c *Client) Decisions(ctx context.Context, checkID string) ([]Decision, error) {
	_, b, err := c.do(ctx, http.MethodGet, "/checks/"+url.PathEscape(checkID)+"/decisions", nil, "", nil)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data []struct {
			Attributes Decision `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	out := make([]Decision, len(doc.Data))
	for i, d := range doc.Data {
		out[i] = d.Attributes
	}
	return out, nil
}
