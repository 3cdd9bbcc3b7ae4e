package metrics

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/x/flapjack/pipeline"
	"github.com/x/flapjack/store"
)

// Readiness decides whether a process is ready: its store answers and every
// stage of its pipeline runs.
type Readiness struct {
	// Pipeline is the pipeline whose stages must all run; *pipeline.Pipeline
	// has these methods.
	Pipeline interface {
		Ready() error
		Stages() []pipeline.StageStatus
	}
	// Queues and Probe name the queue whose length is read to tell that the
	// store answers.
	Queues store.Queues
	Probe  string
	// Timeout bounds the store's answer. Default 2 s.
	Timeout time.Duration
}

// Report is the body of a readiness answer.
type Report struct {
	// Status is "ready" or "not ready".
	Status string `json:"status"`
	// Reasons say what is not ready; empty when ready.
	Reasons []string `json:"reasons,omitempty"`
	// Stages lists the pipeline's stages.
	Stages []StageReport `json:"stages"`
}

// StageReport is one stage in a Report.
type StageReport struct {
	Name     string `json:"name"`
	State    string `json:"state"`
	Since    string `json:"since"`
	Restarts int    `json:"restarts"`
	Error    string `json:"last_error,omitempty"`
}

// Check returns the readiness report; Status is "ready" when Reasons is empty.
func (r *Readiness) Check(ctx context.Context) Report {
	rep := Report{Status: "ready", Stages: []StageReport{}}
	if r.Queues != nil && r.Probe != "" {
		timeout := r.Timeout
		if timeout <= 0 {
			timeout = 2 * time.Second
		}
		sctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := r.Queues.Queue(r.Probe).Len(sctx)
		cancel()
		if err != nil {
			rep.Reasons = append(rep.Reasons, fmt.Sprintf("store unreachable: %v", err))
		}
	}
	if r.Pipeline != nil {
		if err := r.Pipeline.Ready(); err != nil {
			rep.Reasons = append(rep.Reasons, err.Error())
		}
		for _, s := range r.Pipeline.Stages() {
			sr := StageReport{Name: s.Name, State: string(s.State), Since: s.Since.UTC().Format(time.RFC3339), Restarts: s.Restarts}
			if s.LastError != nil {
				sr.Error = s.LastError.Error()
			}
			rep.Stages = append(rep.Stages, sr)
		}
	}
	if len(rep.Reasons) > 0 {
		rep.Status = "not ready"
	}
	return rep
}

// Handler serves the readiness report as JSON (GET /readyz): 200 when ready,
// 503 otherwise.
func (r *Readiness) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rep := r.Check(req.Context())
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Status != "ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
}

// Alive serves 200 "ok" (GET /healthz): the process is alive and answers HTTP.
func Alive() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = io.WriteString(w, "ok\n")
	})
}
