// Package api serves Flapjack over HTTP: the JSON:API of Flapjack v2 (checks,
// contacts, media, rules, tags, scheduled and unscheduled maintenances, states,
// statistics, metrics, acknowledgements and test notifications), and the event
// intake, where producers POST events to /events so that the daemon needs no Redis.
//
// Handler serves both. The JSON:API is at the root, as in v2. GET /metrics is
// shared with Prometheus (Options.Prometheus): a request whose Accept header names
// application/vnd.api+json gets the JSON:API metrics singleton, any other gets the
// Prometheus exposition, so neither scrapers nor v2 clients need a new path.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

// MaxEventsBody is the largest request body the intake reads: 8 MiB.
const MaxEventsBody = 8 << 20

// EventsReply is the intake's answer.
type EventsReply struct {
	// Accepted counts the events queued for processing.
	Accepted int `json:"accepted"`
	// Rejected lists every invalid event with its errors; valid events in the same
	// request are queued all the same.
	Rejected []RejectedEvent `json:"rejected"`
}

// RejectedEvent is one invalid event of a request.
type RejectedEvent struct {
	// Index is the event's position in the request's array (0 for a single event).
	Index  int      `json:"index"`
	Errors []string `json:"errors"`
}

// EventsHandler accepts POST of one JSON event or a JSON array of events and pushes
// each valid one onto queue. It answers 202 when every event was queued, 422 when
// none was valid, 207 when some were, and 400 for a body that is not JSON.
func EventsHandler(queue store.Queue, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "use POST to send events")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxEventsBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", MaxEventsBody))
				return
			}
			writeError(w, http.StatusBadRequest, "could not read the request body")
			return
		}
		raws, err := splitEvents(body)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		reply := EventsReply{Rejected: []RejectedEvent{}}
		valid := make([][]byte, 0, len(raws))
		for i, raw := range raws {
			ev, err := flapjack.ParseEvent(raw)
			if err != nil {
				reply.Rejected = append(reply.Rejected, RejectedEvent{Index: i, Errors: problems(err)})
				continue
			}
			// Queue the normalised form, so consumers see what was validated.
			b, err := json.Marshal(ev)
			if err != nil {
				reply.Rejected = append(reply.Rejected, RejectedEvent{Index: i, Errors: []string{err.Error()}})
				continue
			}
			valid = append(valid, b)
		}
		if len(valid) > 0 {
			if err := queue.Push(r.Context(), valid...); err != nil {
				log.Error("events not queued", "err", err, "count", len(valid))
				writeError(w, http.StatusServiceUnavailable, "events could not be queued; try again")
				return
			}
		}
		reply.Accepted = len(valid)
		if len(reply.Rejected) > 0 {
			log.Warn("invalid events received", "rejected", len(reply.Rejected), "accepted", reply.Accepted)
		}
		status := http.StatusAccepted
		switch {
		case len(raws) == 0 || len(valid) == 0:
			status = http.StatusUnprocessableEntity
		case len(reply.Rejected) > 0:
			status = http.StatusMultiStatus
		}
		writeJSON(w, status, reply)
	})
}

// splitEvents returns the raw events of a body holding one JSON value: an array's
// elements, or the value itself.
func splitEvents(body []byte) ([]json.RawMessage, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, errors.New("empty body: send one JSON event or an array of events")
	}
	if !json.Valid(trimmed) {
		return nil, errors.New("body is not valid JSON: send one JSON event or an array of events")
	}
	if trimmed[0] != '[' {
		return []json.RawMessage{trimmed}, nil
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(trimmed, &raws); err != nil {
		return nil, fmt.Errorf("body is not a JSON array of events: %v", err)
	}
	return raws, nil
}

// problems lists a validation error's messages.
func problems(err error) []string {
	var ve *flapjack.ValidationError
	if errors.As(err, &ve) {
		out := make([]string, len(ve.Problems))
		for i, p := range ve.Problems {
			out[i] = p.Field + ": " + p.Message
		}
		return out
	}
	return []string{err.Error()}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
