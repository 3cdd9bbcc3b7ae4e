package notifier

import (
	"fmt"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/store"
)

func TestMediaDetailMatchesFmt(t *testing.T) {
	for _, ids := range [][]string{nil, {}, {"a"}, {"ops_email", "ops_sms"}, {"", "x", ""}, {"a b", "é"}} {
		for _, prefix := range []string{"media ", "removes media "} {
			if got, want := mediaDetail(prefix, ids), fmt.Sprintf(prefix+"%v", ids); got != want {
				t.Errorf("mediaDetail(%q, %q) = %q, want %q", prefix, ids, got, want)
			}
		}
	}
}

func TestTraceTextsMatchTheirFormats(t *testing.T) {
	rules := []*flapjack.Rule{
		{ID: "r1", MediaIDs: []string{"a", "b"}},
		{ID: "r2", Name: "Night shift", Blackhole: true, MediaIDs: []string{"c"}},
		{ID: "r3", Name: "r3"},
	}
	media := map[string]*flapjack.Medium{"a": {ID: "a"}, "b": {ID: "b"}}
	rt := &store.Routing{Rules: rules, Media: media}
	n := &Notifier{}
	texts := n.traceTexts(rt)
	if n.traceTexts(rt) != texts {
		t.Errorf("the texts of one snapshot were made twice")
	}
	other := &flapjack.Rule{ID: "r4", MediaIDs: []string{"d"}} // of no snapshot seen
	for _, r := range append(rules, other) {
		stage, detail := texts.rule(Match{Rule: r, Media: r.MediaIDs})
		verb := "media"
		if r.Blackhole {
			verb = "removes media"
		}
		if want := "rule:" + ruleLabel(r); stage != want {
			t.Errorf("rule %s: stage %q, want %q", r.ID, stage, want)
		}
		if want := fmt.Sprintf("%s %v", verb, r.MediaIDs); detail != want {
			t.Errorf("rule %s: detail %q, want %q", r.ID, detail, want)
		}
	}
	for _, m := range []*flapjack.Medium{media["a"], {ID: "z"}} {
		if got, want := texts.medium(m), "medium:"+m.ID; got != want {
			t.Errorf("medium %s: stage %q, want %q", m.ID, got, want)
		}
	}
	if n.traceTexts(&store.Routing{}) == texts {
		t.Errorf("a new snapshot got the texts of the old one")
	}
}
