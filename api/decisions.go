package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// decisionAttributes is a decision log record as the API shows it.
type decisionAttributes struct {
	Source         string                   `json:"source"`
	Time           string                   `json:"time"`
	Last           string                   `json:"last"`
	Count          int64                    `json:"count"`
	Event          string                   `json:"event"`
	Summary        string                   `json:"summary,omitempty"`
	Outcome        string                   `json:"outcome"`
	BlockedBy      string                   `json:"blocked_by,omitempty"`
	NotificationID string                   `json:"notification_id,omitempty"`
	Explanation    string                   `json:"explanation"`
	Alerts         []flapjack.DecisionAlert `json:"alerts"`
	Trace          []flapjack.TraceStep     `json:"trace"`
}

// getDecisions answers GET /checks/{id}/decisions: the check's decision log,
// newest first — what the processor made of its recent events and whom the
// notifier alerted, each with its explanation in plain words and the trace
// behind it. It is not paginated: a store keeps store.DecisionLogSize records.
func (s *server) getDecisions(w http.ResponseWriter, r *http.Request) error {
	if r.Method != http.MethodGet {
		return methodNotAllowed(r)
	}
	id := r.PathValue("id")
	checks := s.resources["check"]
	if _, err := checks.fetch(r.Context(), id); errors.Is(err, store.ErrNotFound) {
		return checks.notFound(id)
	} else if err != nil {
		return err
	}
	var recs []flapjack.DecisionRecord
	if l, ok := s.st.(store.DecisionLog); ok {
		var err error
		if recs, err = l.Decisions(r.Context(), id); err != nil {
			return err
		}
	}
	type item struct {
		Type          string             `json:"type"`
		ID            string             `json:"id"`
		Attributes    decisionAttributes `json:"attributes"`
		Relationships map[string]any     `json:"relationships"`
	}
	base := baseURL(r)
	data := make([]item, len(recs))
	for i, rec := range recs {
		alerts := rec.Alerts
		if alerts == nil {
			alerts = []flapjack.DecisionAlert{}
		}
		steps := rec.Trace.Steps
		if steps == nil {
			steps = []flapjack.TraceStep{}
		}
		data[i] = item{
			Type: "decision",
			// Records have no identity of their own: the id names the
			// record by its check and first decision.
			ID: id + ":" + strconv.FormatInt(rec.Time.UnixNano(), 10) + ":" + rec.Source,
			Attributes: decisionAttributes{
				Source: rec.Source, Count: rec.Count, Event: rec.Event, Summary: rec.Summary,
				Time: rec.Time.UTC().Format(time.RFC3339), Last: rec.Last.UTC().Format(time.RFC3339),
				Outcome: rec.Outcome, BlockedBy: rec.BlockedBy, NotificationID: rec.NotificationID,
				Explanation: rec.Explanation(), Alerts: alerts, Trace: steps,
			},
			Relationships: map[string]any{"check": map[string]any{
				"links": map[string]string{"related": base + "/checks/" + id},
				"data":  map[string]string{"type": "check", "id": id},
			}},
		}
	}
	writeDoc(w, http.StatusOK, map[string]any{
		"data":  data,
		"links": map[string]string{"self": base + r.URL.RequestURI()},
		"meta":  map[string]any{"kept": store.DecisionLogSize},
	})
	return nil
}
