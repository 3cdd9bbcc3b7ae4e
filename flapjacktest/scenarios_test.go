package flapjacktest_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/x/flapjack/flapjacktest"
)

// TestScenarios runs every rule-test file under testdata: the behaviour tables of
// Flapjack v2's acceptance suites (events, routing, rollup) and this project's own.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no rule-test files found under testdata")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := flapjacktest.LoadFile(path)
			if err != nil {
				t.Fatalf("invalid rule-test file:\n%v", err)
			}
			for i := range f.Tests {
				test := &f.Tests[i]
				t.Run(test.Name, func(t *testing.T) {
					r := f.RunTest(context.Background(), test)
					if r.Err != nil {
						t.Fatal(r.Err)
					}
					for _, fl := range r.Failures {
						t.Error(fl)
					}
				})
			}
		})
	}
}
