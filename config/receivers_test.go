package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/x/flapjack/config"
)

func TestReceiverFIFOs(t *testing.T) {
	dir := filepath.Join(string(filepath.Separator), "etc", "flapjack")
	for _, tc := range []struct {
		name, text, path string
		nagios, nsca     string
	}{
		{"defaults", "", filepath.Join(dir, "flapjack.toml"), config.DefaultNagiosFIFO, config.DefaultNSCAFIFO},
		{
			"absolute",
			"[nagios-receiver]\nfifo = \"/run/nagios/perfdata.fifo\"\n\n[nsca-receiver]\nfifo = \"/run/nagios/nagios.cmd\"\n",
			filepath.Join(dir, "flapjack.toml"), "/run/nagios/perfdata.fifo", "/run/nagios/nagios.cmd",
		},
		{
			"relative to the file's folder",
			"[nagios-receiver]\nfifo = \"perfdata.fifo\"\n\n[nsca-receiver]\nfifo = \"rw/nagios.cmd\"\n",
			filepath.Join(dir, "flapjack.toml"), filepath.Join(dir, "perfdata.fifo"), filepath.Join(dir, "rw", "nagios.cmd"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := config.Parse([]byte(tc.text), tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.NagiosFIFO(); got != tc.nagios {
				t.Errorf("NagiosFIFO() = %q, want %q", got, tc.nagios)
			}
			if got := c.NSCAFIFO(); got != tc.nsca {
				t.Errorf("NSCAFIFO() = %q, want %q", got, tc.nsca)
			}
		})
	}
	if d := config.Default(); d.NagiosFIFO() != config.DefaultNagiosFIFO || d.NSCAFIFO() != config.DefaultNSCAFIFO {
		t.Errorf("embedded default: %q %q", d.NagiosFIFO(), d.NSCAFIFO())
	}
	_, err := config.Parse([]byte("[nsca-receiver]\nfifo = \"/x\"\npipe = \"/y\"\n"), "flapjack.toml")
	if err == nil || !strings.Contains(err.Error(), `flapjack.toml:3: unknown key "nsca-receiver.pipe"`) {
		t.Errorf("unknown key: %v", err)
	}
}
