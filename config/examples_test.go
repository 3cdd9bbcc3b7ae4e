package config_test

import (
	"testing"

	"github.com/x/flapjack/config"
	"github.com/x/flapjack/setup"
)

// TestExampleConfiguration keeps the shipped example valid.
func TestExampleConfiguration(t *testing.T) {
	cfg, err := config.Load("../examples/daemon/flapjack.toml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setup.Load(cfg.SetupFile()); err != nil {
		t.Fatalf("example set-up data: %v", err)
	}
	j, err := cfg.JSONAPI()
	if err != nil || !*j.Enabled || j.Port != 3081 {
		t.Errorf("jsonapi = %+v, %v; want enabled on 3081", j, err)
	}
}
