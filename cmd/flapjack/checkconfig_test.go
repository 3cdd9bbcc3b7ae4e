package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

const goodSetup = `checks:
  - name: "web-01:HTTP"
    tags: [web]
contacts:
  - id: ops
    name: Ops
    media:
      - {id: ops_log, transport: log, address: ops}
    rules:
      - {id: all, strategy: global, media: [ops_log]}
`

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "setup.yaml", goodSetup)
	writeFile(t, dir, "bad-setup.yaml", `checks:
  - name: "web-01:HTTP"
    tags: ["bad tag"]
contacts:
  - id: ops
    media:
      - {id: ops_log, transport: carrier-pigeon, address: ops}
`)
	// Nothing listens on this port: checking must not connect.
	port := freePort(t)
	for _, tc := range []struct {
		name   string
		config string // "" for no file
		args   []string
		code   int
		stdout string   // all of it
		stderr []string // each line, in order
	}{{
		name: "ok, on Redis",
		config: fmt.Sprintf(`[redis]
host = "127.0.0.1"
port = %d
driver = "ruby"

[setup]
file = "setup.yaml"

[gateways.jsonapi]
port = 3999

[gateways.log]
enabled = true

[gateways.webhook]
enabled = true
`, port),
		stdout: fmt.Sprintf("configuration ok: Redis store redis://127.0.0.1:%d/0, processor, notifier, event intake on 127.0.0.1:3999, gateways log, webhook, set-up data with 1 check and 1 contact\n", port),
		stderr: []string{`warning: ` + filepath.Join(dir, "flapjack.toml") + `:4: [redis] driver "ruby" is a Flapjack v2 setting with no meaning here; ignored`},
	}, {
		name:   "ok, nearly empty",
		config: "[processor]\nenabled = false\n",
		stdout: "configuration ok: in-memory store, notifier, no gateway, no set-up data\n",
	}, {
		name:   "ok, named by --config",
		config: "[gateways.log]\nenabled = true\n",
		args:   []string{"--config", "CONFIG"},
		stdout: "configuration ok: in-memory store, processor, notifier, gateway log, no set-up data\n",
	}, {
		name: "every problem",
		config: `[setup]
file = "bad-setup.yaml"

[gateways.log]
enabled = true
[gateways.log.templates]
"alert.text" = "missing.tmpl"

[gateways.smoke_signals]
enabled = true

[gateways.webhook]
enabled = true
[gateways.webhook.delivery]
retries = "many"
`,
		code: 2,
		stderr: []string{
			"flapjack.toml:6: [gateways.log.templates] \"alert.text\":",
			"flapjack.toml:9: [gateways.smoke_signals] unknown gateway transport \"smoke_signals\"",
			"flapjack.toml:14: [gateways.webhook.delivery]",
			"bad-setup.yaml:2: check \"web-01:HTTP\": tag \"bad tag\"",
			"bad-setup.yaml:7: medium \"ops_log\": unknown transport \"carrier-pigeon\"",
		},
	}, {
		name:   "unknown keys and bad values",
		config: "[processor]\nqueu = \"events\"\n\n[logger]\nlevel = \"loud\"\n",
		code:   2,
		stderr: []string{`flapjack.toml:2: unknown key "processor.queu"`, `flapjack.toml:5: [logger] level "loud"`},
	}, {
		name:   "missing set-up file",
		config: "[setup]\nfile = \"nope.yaml\"\n",
		code:   2,
		stderr: []string{"flapjack.toml:2: [setup] file: open "},
	}, {
		name:   "missing file",
		args:   []string{filepath.Join(dir, "nope.toml")},
		code:   2,
		stderr: []string{"nope.toml: no such file or directory"},
	}, {
		name:   "no file",
		code:   2,
		stderr: []string{"flapjack: name the configuration file to check"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"check-config"}
			if tc.config != "" {
				path := writeFile(t, dir, "flapjack.toml", tc.config)
				if tc.args == nil {
					tc.args = []string{path}
				}
				for i, a := range tc.args {
					if a == "CONFIG" {
						tc.args[i] = path
					}
				}
			}
			r := runFlapjack(t, append(args, tc.args...)...)
			if r.code != tc.code || r.stdout != tc.stdout {
				t.Errorf("exit %d, stdout %q; want exit %d, stdout %q\nstderr:\n%s", r.code, r.stdout, tc.code, tc.stdout, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if r.stderr == "" {
				lines = nil
			}
			if len(lines) != len(tc.stderr) {
				t.Errorf("stderr has %d lines, want %d:\n%s", len(lines), len(tc.stderr), r.stderr)
				return
			}
			for i, want := range tc.stderr {
				if !strings.Contains(lines[i], want) {
					t.Errorf("stderr line %d is %q, want it to contain %q", i+1, lines[i], want)
				}
			}
		})
	}
}
