package receiver_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/receiver"
)

func TestLineReceiver(t *testing.T) {
	var logs syncBuffer
	rec := &recorder{}
	down := false
	r := &receiver.LineReceiver{
		Parse: receiver.ParseNSCALine,
		Sender: receiver.SenderFunc(func(ctx context.Context, ev flapjack.Event) error {
			if down {
				return errors.New("intake down")
			}
			return rec.Send(ctx, ev)
		}),
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	ctx := context.Background()
	for _, l := range []string{
		"[1] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;2;502",
		"[1] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;9;what",
		"[1] ACKNOWLEDGE_SVC_PROBLEM;web-01;HTTP;1;1;1;ops;on it",
		"[2] PROCESS_HOST_CHECK_RESULT;web-01;0;PING OK",
	} {
		r.Line(ctx, []byte(l))
	}
	down = true
	r.Line(ctx, []byte("[3] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;0;ok"))

	got := rec.take()
	if len(got) != 2 || got[0].CheckName() != "web-01:HTTP" || got[0].State != "critical" || got[1].CheckName() != "web-01:HOST" {
		t.Errorf("sent %+v", got)
	}
	if c := r.Counts(); c != (receiver.LineCounts{Sent: 2, Rejected: 2, Failed: 1}) {
		t.Errorf("counts %+v", c)
	}
	for _, want := range []string{
		`level=WARN msg="rejecting line" err="rejected line: PROCESS_SERVICE_CHECK_RESULT: return code \"9\" is not 0 (ok), 1 (warning), 2 (critical) or 3 (unknown)" line="\"[1] PROCESS_SERVICE_CHECK_RESULT;web-01;HTTP;9;what\""`,
		`level=DEBUG msg="rejecting line" err="rejected line: not a check result: ACKNOWLEDGE_SVC_PROBLEM"`,
		`level=ERROR msg="event not sent" err="intake down" check=web-01:HTTP state=ok`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}
