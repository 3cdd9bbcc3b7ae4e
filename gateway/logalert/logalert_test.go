package logalert_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/logalert"
)

func newLogged(t *testing.T, tpl *gateway.Templates) (gateway.Gateway, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	g, err := gateway.New("log", gateway.MapConfig{}, gateway.Env{Logger: logger, Templates: tpl})
	if err != nil {
		t.Fatal(err)
	}
	return g, &buf
}

func base() *flapjack.Alert {
	return &flapjack.Alert{
		ID: "alert-7", Transport: "sms", Address: "+61400000001", MediumID: "m1",
		ContactID: "c1", ContactName: "Ada Lovelace", CheckID: "k1", CheckName: "app-01:HTTP",
		Time: time.Date(2016, 2, 1, 12, 0, 0, 0, time.UTC),
	}
}

func TestSend(t *testing.T) {
	const via = "Alert via sms:+61400000001 to contact c1 (Ada Lovelace): "
	problem := base()
	problem.Type, problem.Condition, problem.Summary = flapjack.TypeProblem, flapjack.Critical, "HTTP 500"
	ack := base()
	ack.Type, ack.Condition, ack.Action = flapjack.TypeAcknowledgement, flapjack.Critical, flapjack.Acknowledgement
	ack.AcknowledgementDuration, ack.Summary = 24*time.Hour+2*time.Minute, "on it"
	rollup := base()
	rollup.Type, rollup.Condition, rollup.Rollup = flapjack.TypeProblem, flapjack.Critical, flapjack.RollupProblem
	rollup.RollupStates = map[flapjack.Condition][]string{
		flapjack.Critical: {"a", "b", "c", "d"},
		flapjack.Unknown:  {"u"},
	}

	for _, tc := range []struct {
		name     string
		a        *flapjack.Alert
		msg      string
		typ, rup string
	}{
		{"problem", problem, via + "Problem - 'app-01:HTTP' is Critical - HTTP 500", "problem", ""},
		{"acknowledgement", ack, via + "Acknowledgement - 'app-01:HTTP' has been acknowledged, unscheduled maintenance created for 1 day, 2 minutes - on it", "acknowledgement", ""},
		{"rollup", rollup, via + "Problem summary - Critical: 4, Unknown: 1 (Critical: a, b, c, ...; Unknown: u)", "problem", "problem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, buf := newLogged(t, nil)
			if err := g.Send(context.Background(), tc.a); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if len(lines) != 1 {
				t.Fatalf("want one log line, got %d:\n%s", len(lines), buf)
			}
			var rec map[string]any
			if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{
				"level": "INFO", "msg": tc.msg,
				"alert_id": "alert-7", "check": "app-01:HTTP", "type": tc.typ, "rollup": tc.rup,
				"transport": "sms", "address": "+61400000001",
			}
			delete(rec, "time")
			if len(rec) != len(want) {
				t.Errorf("attributes %v, want exactly %v", keys(rec), keys(want))
			}
			for k, v := range want {
				if rec[k] != v {
					t.Errorf("%s = %q, want %q", k, rec[k], v)
				}
			}
		})
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestSendTextHandler(t *testing.T) {
	var buf bytes.Buffer
	g := logalert.New(gateway.Env{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	a := base()
	a.Type, a.Condition = flapjack.TypeRecovery, flapjack.OK
	if err := g.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	want := `level=INFO msg="Alert via sms:+61400000001 to contact c1 (Ada Lovelace): Recovery - 'app-01:HTTP' is OK" alert_id=alert-7 check=app-01:HTTP type=recovery rollup="" transport=sms address=+61400000001` + "\n"
	got := buf.String()
	if i := strings.Index(got, "level="); i >= 0 {
		got = got[i:]
	}
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestSendOverriddenTemplate(t *testing.T) {
	tpl := gateway.DefaultTemplates()
	if err := tpl.Override("log", "alert.text", "{{.CheckName}} → {{.StateTitleCase}}"); err != nil {
		t.Fatal(err)
	}
	g, buf := newLogged(t, tpl)
	a := base()
	a.Type, a.Condition = flapjack.TypeProblem, flapjack.Warning
	if err := g.Send(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"msg":"app-01:HTTP → Warning"`) {
		t.Errorf("log line %s", buf)
	}

	if err := tpl.Override("log", "alert.text", "{{.Missing}}"); err != nil {
		t.Fatal(err)
	}
	err := g.Send(context.Background(), a)
	if err == nil || !gateway.IsPermanent(err) {
		t.Errorf("unrenderable alert: err = %v, want a permanent error", err)
	}
}

func TestSendCancelled(t *testing.T) {
	g, buf := newLogged(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a := base()
	a.Type, a.Condition = flapjack.TypeProblem, flapjack.Critical
	if err := g.Send(ctx, a); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if buf.Len() != 0 {
		t.Errorf("logged after cancellation: %s", buf)
	}
}

func TestRegistered(t *testing.T) {
	if !slices.Contains(gateway.Transports(), logalert.Transport) {
		t.Errorf("Transports() = %v, missing %q", gateway.Transports(), logalert.Transport)
	}
}
