package main

import (
	"strings"
	"testing"
)

// Flapjack's completion command replaces cobra's default one: there is one.
func TestOneCompletionCommand(t *testing.T) {
	root := newRoot()
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	n := 0
	for _, c := range root.Commands() {
		if c.Name() == "completion" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d completion commands, want 1", n)
	}
}

func TestCompletion(t *testing.T) {
	for _, tc := range []struct {
		shell string
		want  []string
	}{
		{"bash", []string{"bash completion V2 for flapjack", "__start_flapjack"}},
		{"zsh", []string{"#compdef flapjack", "_flapjack"}},
		{"fish", []string{"fish completion for flapjack", "complete -c flapjack"}},
		{"powershell", []string{"powershell completion for flapjack", "Register-ArgumentCompleter"}},
	} {
		r := runFlapjack(t, "completion", tc.shell)
		if r.code != 0 || !containsAll(r.stdout, tc.want...) {
			t.Errorf("flapjack completion %s: exit %d, stderr %q, stdout begins %q", tc.shell, r.code, r.stderr, r.stdout[:min(len(r.stdout), 200)])
		}
	}
	for _, args := range [][]string{{"completion"}, {"completion", "tcsh"}, {"completion", "bash", "zsh"}} {
		if r := runFlapjack(t, args...); r.code == 0 {
			t.Errorf("flapjack %s: exit 0, want an error", strings.Join(args, " "))
		}
	}
	// The scripts complete through the hidden __complete command: commands,
	// and flag values that have a fixed set.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "simulate", ""}, []string{"fail", "fail_and_recover", "ok"}},
		{[]string{"__complete", "maintenance", "show", "--type", ""}, []string{"scheduled", "unscheduled"}},
		{[]string{"__complete", "simulate", "fail", "--state", ""}, []string{"critical", "warning", "unknown"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
	} {
		r := runFlapjack(t, tc.args...)
		if r.code != 0 || !containsAll(r.stdout, tc.want...) {
			t.Errorf("flapjack %s: exit %d, stdout %q; want %v", strings.Join(tc.args, " "), r.code, r.stdout, tc.want)
		}
	}
}
