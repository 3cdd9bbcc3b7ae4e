package chatbot_test

import (
	"testing"
	"time"

	"github.com/x/flapjack/gateway/jabber/chatbot"
)

func TestAddressed(t *testing.T) {
	ids := []string{"flapjack", "fj"}
	tests := []struct {
		body string
		want string
		ok   bool
	}{
		{"flapjack: help", "help", true},
		{"Flapjack:help", "help", true},
		{"@flapjack help", "help", true},
		{"@flapjack: help", "help", true},
		{"@FJ identify", "identify", true},
		{"fj:   state of app-01:HTTP  ", "state of app-01:HTTP", true},
		{"@flapjacks help", "", false},
		{"flapjack help", "", false},
		{"hello flapjack: help", "", false},
		{"help", "", false},
	}
	for _, tt := range tests {
		got, ok := chatbot.Addressed(tt.body, ids)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Addressed(%q) = %q, %v; want %q, %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParse(t *testing.T) {
	name := func(n string) chatbot.Target { return chatbot.Target{Kind: chatbot.ByName, Value: n} }
	re := func(r string) chatbot.Target { return chatbot.Target{Kind: chatbot.ByRegexp, Value: r} }
	tag := func(g string) chatbot.Target { return chatbot.Target{Kind: chatbot.ByTag, Value: g} }
	tests := []struct {
		text string
		want chatbot.Command
	}{
		{"help", chatbot.Command{Kind: chatbot.Help}},
		{"HELP", chatbot.Command{Kind: chatbot.Help}},
		{"identify", chatbot.Command{Kind: chatbot.Identify}},
		{"find checks matching /app-\\d+/", chatbot.Command{Kind: chatbot.Find, Target: re(`app-\d+`)}},
		{"find 5 checks matching /HTTP/", chatbot.Command{Kind: chatbot.Find, Limit: 5, Target: re("HTTP")}},
		{"Find 2 checks with tag web", chatbot.Command{Kind: chatbot.Find, Limit: 2, Target: tag("web")}},
		{"find checks with", chatbot.Command{Kind: chatbot.Unknown}},
		{"state of app-01:HTTP Port", chatbot.Command{Kind: chatbot.State, Target: name("app-01:HTTP Port")}},
		{"state of checks matching /db/", chatbot.Command{Kind: chatbot.State, Target: re("db")}},
		{"tell me about 3 checks with tag db", chatbot.Command{Kind: chatbot.TellMeAbout, Limit: 3, Target: tag("db")}},
		{"tell me about app-01:HTTP", chatbot.Command{Kind: chatbot.TellMeAbout, Target: name("app-01:HTTP")}},
		{"ACKID 1A2b3c4d AL looking", chatbot.Command{Kind: chatbot.AckID, AckID: "1a2b3c4d", Comment: "AL looking"}},
		{"ackid a1b2 on it duration: 2 hours", chatbot.Command{Kind: chatbot.AckID, AckID: "a1b2", Comment: "on it", Duration: 2 * time.Hour}},
		{"ACKID a1b2", chatbot.Command{Kind: chatbot.AckID, AckID: "a1b2", NeedsComment: true}},
		{"ACKID a1b2 fixing duration: soonish", chatbot.Command{Kind: chatbot.AckID, AckID: "a1b2", Comment: "fixing", Problem: `cannot read "soonish" as a duration`}},
		{"ack app-01:HTTP", chatbot.Command{Kind: chatbot.Ack, Target: name("app-01:HTTP")}},
		{"ack app-01:HTTP rebooting it duration: 30 minutes", chatbot.Command{Kind: chatbot.Ack, Target: name("app-01:HTTP"), Comment: "rebooting it", Duration: 30 * time.Minute}},
		{"ack checks matching /app/ deploy", chatbot.Command{Kind: chatbot.Ack, Target: re("app"), Comment: "deploy"}},
		{"ack checks with tag web", chatbot.Command{Kind: chatbot.Ack, Target: tag("web")}},
		{"maint app-01:HTTP", chatbot.Command{Kind: chatbot.Maint, Target: name("app-01:HTTP")}},
		{"maint checks with tag db start-in: 1 hour duration: 90 minutes comment: upgrade to 16",
			chatbot.Command{Kind: chatbot.Maint, Target: tag("db"), StartIn: time.Hour, Duration: 90 * time.Minute, Comment: "upgrade to 16"}},
		{"maint app-01:HTTP start-at: 2026-11-21 22:00 duration: 1h30m",
			chatbot.Command{Kind: chatbot.Maint, Target: name("app-01:HTTP"), StartAt: "2026-11-21 22:00", Duration: 90 * time.Minute}},
		{"test notifications for checks matching /.*/", chatbot.Command{Kind: chatbot.TestNotifications, Target: re(".*")}},
		{"test notifications for app-01:HTTP", chatbot.Command{Kind: chatbot.TestNotifications, Target: name("app-01:HTTP")}},
		{"make me a sandwich", chatbot.Command{Kind: chatbot.Unknown}},
		{"ack", chatbot.Command{Kind: chatbot.Unknown}},
	}
	for _, tt := range tests {
		want := tt.want
		want.Text = tt.text
		if want.Limit == 0 {
			want.Limit = chatbot.DefaultLimit
		}
		if got := chatbot.Parse(tt.text); got != want {
			t.Errorf("Parse(%q) =\n%+v, want\n%+v", tt.text, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2 hours", 2 * time.Hour, true},
		{"1h30m", 90 * time.Minute, true},
		{"1 day, 4 hours", 28 * time.Hour, true},
		{"an hour", time.Hour, true},
		{"1 week and 2 days", 9 * 24 * time.Hour, true},
		{"90", 90 * time.Second, true},
		{"1.5 hours", 90 * time.Minute, true},
		{"", 0, false},
		{"soon", 0, false},
		{"3 fortnights", 0, false},
	}
	for _, tt := range tests {
		got, err := chatbot.ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestReplies(t *testing.T) {
	if got, want := chatbot.UnknownReply("make me a sandwich"), "what do you mean, 'make me a sandwich'? Type 'help' for a list of acceptable commands."; got != want {
		t.Errorf("UnknownReply = %q, want %q", got, want)
	}
	if got, want := chatbot.CommentHint("fj", "a1b2"), `please provide a comment, eg "fj: ACKID a1b2 AL looking"`; got != want {
		t.Errorf("CommentHint = %q, want %q", got, want)
	}
	for tgt, want := range map[chatbot.Target]string{
		{Kind: chatbot.ByRegexp, Value: "a.b"}: "matching /a.b/",
		{Kind: chatbot.ByTag, Value: "web"}:    "with tag 'web'",
		{Kind: chatbot.ByName, Value: "x:y"}:   "with name 'x:y'",
	} {
		if got := tgt.Descriptor(); got != want {
			t.Errorf("Descriptor of %+v = %q, want %q", tgt, got, want)
		}
	}
}
