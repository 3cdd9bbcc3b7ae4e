package gateway_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
)

type recordingGateway struct {
	cfg testConfig
	env gateway.Env
}

type testConfig struct {
	Greeting string  `json:"greeting"`
	Timeout  float64 `json:"timeout"`
	Tags     []string
}

func (g *recordingGateway) Send(context.Context, *flapjack.Alert) error { return nil }

func init() {
	gateway.Register("test_registry_record", func(cfg gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		g := &recordingGateway{env: env}
		if err := cfg.Decode(&g.cfg); err != nil {
			return nil, err
		}
		if g.cfg.Greeting == "fail" {
			return nil, errors.New("greeting must not be fail")
		}
		return g, nil
	})
	nop := func(gateway.Config, gateway.Env) (gateway.Gateway, error) { return nil, nil }
	gateway.Register("test_registry_zz", nop)
	gateway.Register("test_registry_aa", nop)
}

func TestNewRejectsUnknownKeys(t *testing.T) {
	_, err := gateway.New("test_registry_record", gateway.MapConfig{"greetign": "hello"}, gateway.Env{})
	if err == nil || !strings.Contains(err.Error(), `unknown key "greetign"`) {
		t.Fatalf("New with a misspelt key: err = %v, want one naming the key", err)
	}
}

func TestNew(t *testing.T) {
	g, err := gateway.New("test_registry_record", gateway.MapConfig{
		"greeting": "hello", "timeout": 2.5, "Tags": []string{"a"},
	}, gateway.Env{})
	if err != nil {
		t.Fatal(err)
	}
	rg := g.(*recordingGateway)
	if rg.cfg.Greeting != "hello" || rg.cfg.Timeout != 2.5 || !slices.Equal(rg.cfg.Tags, []string{"a"}) {
		t.Errorf("decoded config = %+v", rg.cfg)
	}
	if rg.env.Logger == nil || rg.env.Clock == nil || rg.env.HTTPClient == nil || rg.env.Templates == nil {
		t.Errorf("New left Env fields unset: %+v", rg.env)
	}
	if _, err := rg.env.Templates.Render("sms", "alert", "text", &flapjack.Alert{CheckName: "x"}, nil); err != nil {
		t.Errorf("default Templates cannot render: %v", err)
	}

	tpl := gateway.DefaultTemplates()
	g, err = gateway.New("test_registry_record", nil, gateway.Env{Templates: tpl})
	if err != nil {
		t.Fatal(err)
	}
	if g.(*recordingGateway).env.Templates != tpl {
		t.Error("New replaced the Templates it was given")
	}
}

func TestNewErrors(t *testing.T) {
	_, err := gateway.New("carrier_pigeon", nil, gateway.Env{})
	if !errors.Is(err, gateway.ErrUnknownTransport) {
		t.Fatalf("unknown transport: %v", err)
	}
	for _, want := range []string{`"carrier_pigeon"`, "known: ", "test_registry_record"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}

	_, err = gateway.New("test_registry_record", gateway.MapConfig{"greeting": "fail"}, gateway.Env{})
	if err == nil || err.Error() != "gateway test_registry_record: greeting must not be fail" {
		t.Errorf("factory error = %v", err)
	}
	_, err = gateway.New("test_registry_record", gateway.MapConfig{"greeting": 3}, gateway.Env{})
	if err == nil || !strings.Contains(err.Error(), "decode config") {
		t.Errorf("type mismatch error = %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	f := func(gateway.Config, gateway.Env) (gateway.Gateway, error) { return nil, nil }
	for _, tc := range []struct {
		name      string
		transport string
		f         gateway.Factory
	}{
		{"duplicate", "test_registry_record", f},
		{"empty name", "", f},
		{"nil factory", "test_registry_nil", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("Register did not panic")
				}
			}()
			gateway.Register(tc.transport, tc.f)
		})
	}
	if slices.Contains(gateway.Transports(), "test_registry_nil") {
		t.Error("a refused registration was kept")
	}
}

func TestTransportsSorted(t *testing.T) {
	got := gateway.Transports()
	if !slices.IsSorted(got) {
		t.Errorf("Transports() = %v, not sorted", got)
	}
	for _, want := range []string{"test_registry_aa", "test_registry_record", "test_registry_zz"} {
		if !slices.Contains(got, want) {
			t.Errorf("Transports() = %v, missing %s", got, want)
		}
	}
}

func TestMapConfigNil(t *testing.T) {
	c := testConfig{Greeting: "kept"}
	if err := gateway.MapConfig(nil).Decode(&c); err != nil {
		t.Fatal(err)
	}
	if c.Greeting != "kept" {
		t.Errorf("nil MapConfig changed the defaults: %+v", c)
	}
}
