package config

import "path/filepath"

// The named pipes the receivers read when neither a flag nor the configuration
// names one: Nagios' perfdata pipe and Nagios' command file, where Flapjack v2's
// documentation puts them.
const (
	DefaultNagiosFIFO = "/var/cache/nagios3/event_stream.fifo"
	DefaultNSCAFIFO   = "/var/lib/nagios3/rw/nagios.cmd"
)

// NagiosReceiver configures "flapjack receiver nagios" ([nagios-receiver]).
type NagiosReceiver struct {
	// FIFO is the named pipe Nagios writes host and service performance data
	// to, relative to the configuration file's folder. Default
	// DefaultNagiosFIFO.
	FIFO string `toml:"fifo"`
}

// NSCAReceiver configures "flapjack receiver nsca" ([nsca-receiver]).
type NSCAReceiver struct {
	// FIFO is the named pipe external commands are written to (Nagios' command
	// file, fed by NSCA), relative to the configuration file's folder. Default
	// DefaultNSCAFIFO.
	FIFO string `toml:"fifo"`
}

// NagiosFIFO is [nagios-receiver] fifo resolved against the configuration's
// folder, or DefaultNagiosFIFO.
func (c *Config) NagiosFIFO() string { return c.receiverFile(c.NagiosReceiver.FIFO, DefaultNagiosFIFO) }

// NSCAFIFO is [nsca-receiver] fifo resolved against the configuration's
// folder, or DefaultNSCAFIFO.
func (c *Config) NSCAFIFO() string { return c.receiverFile(c.NSCAReceiver.FIFO, DefaultNSCAFIFO) }

func (c *Config) receiverFile(path, def string) string {
	switch {
	case path == "":
		return def
	case filepath.IsAbs(path) || c.Path == "":
		return path
	}
	return filepath.Join(filepath.Dir(c.Path), path)
}
