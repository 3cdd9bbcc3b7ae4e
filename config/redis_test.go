package config_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/x/flapjack/config"
	redisstore "github.com/x/flapjack/store/redis"
)

func TestRedisAbsentMeansMemory(t *testing.T) {
	if c := parse(t, "[processor]\nqueue = \"events\"\n"); c.Redis != nil {
		t.Errorf("Redis = %v without a [redis] table, want nil (the in-memory store)", c.Redis)
	}
	if c := config.Default(); c.Redis != nil {
		t.Errorf("Default().Redis = %v, want nil", c.Redis)
	}
}

func TestRedis(t *testing.T) {
	for _, tc := range []struct {
		name     string
		table    string // the lines after [redis]
		want     redisstore.Options
		tls      bool
		redacted string
	}{{
		name:     "empty table: the v2 defaults",
		table:    "",
		want:     redisstore.Options{Addrs: []string{"127.0.0.1:6379"}},
		redacted: "redis://127.0.0.1:6379/0",
	}, {
		name:  "every v2 key",
		table: "host = \"redis.example.com\"\nport = 6380\ndb = 13\nusername = \"flapjack\"\npassword = \"pw\"\nprefix = \"fj:\"\nconsumer = \"flapjack@web-1\"\n",
		want: redisstore.Options{Addrs: []string{"redis.example.com:6380"}, DB: 13, Username: "flapjack", Password: "pw",
			Prefix: "fj:", ConsumerID: "flapjack@web-1"},
		redacted: "redis://flapjack:xxxxx@redis.example.com:6380/13",
	}, {
		name:     "password alone",
		table:    "password = \"pw\"\n",
		want:     redisstore.Options{Addrs: []string{"127.0.0.1:6379"}, Password: "pw"},
		redacted: "redis://:xxxxx@127.0.0.1:6379/0",
	}, {
		name:     "IPv6 host",
		table:    "host = \"::1\"\n",
		want:     redisstore.Options{Addrs: []string{"[::1]:6379"}},
		redacted: "redis://[::1]:6379/0",
	}, {
		name:     "unix socket",
		table:    "path = \"/run/redis/redis.sock\"\ndb = 1\npassword = \"pw\"\n",
		want:     redisstore.Options{Addrs: []string{"/run/redis/redis.sock"}, DB: 1, Password: "pw"},
		redacted: "unix://:xxxxx@/run/redis/redis.sock?db=1",
	}, {
		name:     "driver is ignored",
		table:    "driver = \"hiredis\"\nport = 6380\n",
		want:     redisstore.Options{Addrs: []string{"127.0.0.1:6380"}},
		redacted: "redis://127.0.0.1:6380/0",
	}, {
		name:     "url",
		table:    "url = \"redis://flapjack:pw@redis.example.com:6380/2\"\n",
		want:     redisstore.Options{Addrs: []string{"redis.example.com:6380"}, DB: 2, Username: "flapjack", Password: "pw"},
		redacted: "redis://flapjack:xxxxx@redis.example.com:6380/2",
	}, {
		name:     "url over TLS",
		table:    "url = \"rediss://:pw@redis.example.com\"\n",
		want:     redisstore.Options{Addrs: []string{"redis.example.com:6379"}, Password: "pw"},
		tls:      true,
		redacted: "rediss://:xxxxx@redis.example.com",
	}, {
		name:     "unix url",
		table:    "url = \"unix:///run/redis.sock?db=3\"\n",
		want:     redisstore.Options{Addrs: []string{"/run/redis.sock"}, DB: 3},
		redacted: "unix:///run/redis.sock?db=3",
	}, {
		name:  "Sentinel url",
		table: "url = \"redis://:pw@s1:26379/0?master_name=flapjack&addr=s2:26379&sentinel_password=spw\"\n",
		want: redisstore.Options{Addrs: []string{"s1:26379", "s2:26379"}, MasterName: "flapjack", Password: "pw",
			SentinelPassword: "spw"},
		redacted: "redis://:xxxxx@s1:26379/0?master_name=flapjack&addr=s2:26379&sentinel_password=xxxxx",
	}, {
		name:     "Cluster url",
		table:    "url = \"redis://c1:7000?cluster=true&prefix=%7Bfj%7D:\"\n",
		want:     redisstore.Options{Addrs: []string{"c1:7000"}, Cluster: true, Prefix: "{fj}:"},
		redacted: "redis://c1:7000?cluster=true&prefix=%7Bfj%7D:",
	}, {
		name:  "url with the credentials, prefix and consumer as keys",
		table: "url = \"redis://redis.example.com/0\"\nusername = \"flapjack\"\npassword = \"pw\"\nprefix = \"fj:\"\nconsumer = \"c1\"\n",
		want: redisstore.Options{Addrs: []string{"redis.example.com:6379"}, Username: "flapjack", Password: "pw",
			Prefix: "fj:", ConsumerID: "c1"},
		redacted: "redis://flapjack:xxxxx@redis.example.com/0",
	}, {
		name:     "url with a password and the user name as a key",
		table:    "url = \"redis://:pw@redis.example.com/0\"\nusername = \"flapjack\"\n",
		want:     redisstore.Options{Addrs: []string{"redis.example.com:6379"}, Username: "flapjack", Password: "pw"},
		redacted: "redis://flapjack:xxxxx@redis.example.com/0",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			c := parse(t, "[redis]\n"+tc.table)
			if c.Redis == nil {
				t.Fatal("Redis = nil with a [redis] table")
			}
			o, err := c.Redis.Options()
			if err != nil {
				t.Fatalf("Options(): %v", err)
			}
			if (o.TLSConfig != nil) != tc.tls {
				t.Errorf("TLSConfig = %v, want TLS %v", o.TLSConfig, tc.tls)
			}
			o.TLSConfig = nil
			if !reflect.DeepEqual(o, tc.want) {
				t.Errorf("Options() =\n  %+v\nwant\n  %+v", o, tc.want)
			}
			if got := c.Redis.Redacted(); got != tc.redacted {
				t.Errorf("Redacted() = %q, want %q", got, tc.redacted)
			}
			// The redacted address is a URL the store reads (with the password
			// replaced), pointing at the same servers.
			if ro, err := redisstore.ParseURL(c.Redis.Redacted()); err != nil {
				t.Errorf("ParseURL(Redacted()): %v", err)
			} else if !reflect.DeepEqual(ro.Addrs, o.Addrs) || ro.DB != o.DB {
				t.Errorf("Redacted() names %v db %d, want %v db %d", ro.Addrs, ro.DB, o.Addrs, o.DB)
			}
			for _, s := range []string{fmt.Sprint(c.Redis), fmt.Sprintf("%+v", c.Redis), fmt.Sprintf("%v", *c.Redis)} {
				if strings.Contains(s, "pw") {
					t.Errorf("printing the table shows a password: %s", s)
				}
			}
		})
	}
}

func TestRedisDriverWarning(t *testing.T) {
	if w := parse(t, "[redis]\nhost = \"127.0.0.1\"\n").Warnings(); len(w) != 0 {
		t.Errorf("Warnings() = %q, want none", w)
	}
	want := []string{`flapjack.toml:3: [redis] driver "ruby" is a Flapjack v2 setting with no meaning here; ignored`}
	if w := parse(t, "[redis]\nport = 6379\ndriver = \"ruby\"\n").Warnings(); !reflect.DeepEqual(w, want) {
		t.Errorf("Warnings() = %q, want %q", w, want)
	}
}

// TestRedisErrors checks each problem of a [redis] table, with its line.
func TestRedisErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		text string
		want []string // every line of the error, in order
	}{{
		name: "url and host, port",
		text: "[redis]\nurl = \"redis://h:6379/0\"\nhost = \"h\"\nport = 6379\n",
		want: []string{`flapjack.toml:2: [redis] url cannot be combined with host (line 3), port (line 4): give the server either as url or with host, port, db and path`},
	}, {
		name: "url and db, path",
		text: "[redis]\ndb = 1\npath = \"/run/redis.sock\"\n\nurl = \"redis://h\"\n",
		want: []string{`flapjack.toml:5: [redis] url cannot be combined with db (line 2), path (line 3): give the server either as url or with host, port, db and path`},
	}, {
		name: "path and host, port",
		text: "[redis]\nhost = \"h\"\nport = 6379\npath = \"/run/redis.sock\"\n",
		want: []string{`flapjack.toml:4: [redis] path (a unix socket) cannot be combined with host (line 2), port (line 3)`},
	}, {
		name: "port too large",
		text: "[redis]\nport = 70000\n",
		want: []string{`flapjack.toml:2: [redis] port 70000 is not between 1 and 65535`},
	}, {
		name: "port zero",
		text: "[redis]\nport = 0\n",
		want: []string{`flapjack.toml:2: [redis] port 0 is not between 1 and 65535`},
	}, {
		name: "negative db",
		text: "[redis]\n\ndb = -1\n",
		want: []string{`flapjack.toml:3: [redis] db -1 is not a database number (0 or more)`},
	}, {
		name: "relative socket path",
		text: "[redis]\npath = \"redis.sock\"\n",
		want: []string{`flapjack.toml:2: [redis] path "redis.sock" is not absolute: name the unix socket by its full path`},
	}, {
		name: "host with a port",
		text: "[redis]\nhost = \"redis.example.com:6380\"\n",
		want: []string{`flapjack.toml:2: [redis] host "redis.example.com:6380" holds a port: give the port with port = 6380`},
	}, {
		name: "url with an unknown scheme",
		text: "[redis]\nurl = \"http://h/0\"\n",
		want: []string{`flapjack.toml:2: [redis] url "http://h/0": unknown scheme "http", want redis, rediss or unix`},
	}, {
		name: "an @ in a parameter is not a password",
		text: "[redis]\nurl = \"redis://h:6379/0?consumer=fj@web-1&x=1\"\n",
		want: []string{`flapjack.toml:2: [redis] url "redis://h:6379/0?consumer=fj@web-1&x=1": unknown parameter "x"`},
	}, {
		name: "url with two bad parameters",
		text: "[redis]\nurl = \"redis://h/0?master=x&pool_size=many\"\n",
		want: []string{
			`flapjack.toml:2: [redis] url "redis://h/0?master=x&pool_size=many": pool_size: "many" is not a whole number`,
			`flapjack.toml:2: [redis] url "redis://h/0?master=x&pool_size=many": unknown parameter "master"`,
		},
	}, {
		name: "password in url and as a key",
		text: "[redis]\nurl = \"redis://:a@h/0\"\npassword = \"b\"\n",
		want: []string{`flapjack.toml:3: [redis] password is also given in url; give it in one place`},
	}, {
		name: "prefix in url and as a key",
		text: "[redis]\nurl = \"redis://h/0?prefix=a:\"\nprefix = \"b:\"\n",
		want: []string{`flapjack.toml:3: [redis] prefix is also given in url; give it in one place`},
	}, {
		name: "unknown key",
		text: "[redis]\nhots = \"h\"\n",
		want: []string{`flapjack.toml:2: unknown key "redis.hots"`},
	}, {
		name: "problems of [redis] and other tables together",
		text: "[logger]\nlevel = \"loud\"\n[redis]\nport = -5\ndb = -2\n",
		want: []string{
			`flapjack.toml:2: [logger] level "loud" is not debug, info, warn or error`,
			`flapjack.toml:4: [redis] port -5 is not between 1 and 65535`,
			`flapjack.toml:5: [redis] db -2 is not a database number (0 or more)`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte(tc.text), file)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want %d problems", tc.text, len(tc.want))
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Parse(%q) error:\n%s\nwant:\n%s", tc.text, err, strings.Join(tc.want, "\n"))
			}
		})
	}
	for _, text := range []string{"[redis]\nport = \"6379\"\n", "[redis]\ndb = 1.5\n", "[redis]\nhost = 1\n", "[redis]\ndriver = true\n"} {
		if _, err := config.Parse([]byte(text), file); err == nil || !strings.HasPrefix(err.Error(), file+":2: ") {
			t.Errorf("Parse(%q) error %v, want it to start with %q", text, err, file+":2: ")
		}
	}
}

// TestRedisSecretsNeverInErrors: whatever is wrong, no error and no printout
// shows a password, even a fragment that a parser quotes.
func TestRedisSecretsNeverInErrors(t *testing.T) {
	const secret = "s3cr%zzet"
	for _, tc := range []struct {
		name, table string
		secrets     []string // none may appear
	}{
		{"invalid escape in the password", "url = \"redis://flapjack:s3cr%zzet@h/0\"\n", []string{secret, "s3cr", "%zz"}},
		{"space in the password", "url = \"redis://flapjack:top secret@h/0\"\n", []string{"top secret", "secret"}},
		{"bad port", "url = \"redis://flapjack:s3cret@h:port/0\"\n", []string{"s3cret"}},
		{"bad scheme", "url = \"redsi://flapjack:s3cret@h/0\"\n", []string{"s3cret"}},
		{"unknown parameter", "url = \"redis://:s3cret@h/0?bogus=1\"\n", []string{"s3cret"}},
		{"bad database", "url = \"redis://:s3cret@h/x\"\n", []string{"s3cret"}},
		{"escaped password", "url = \"redis://:s3%2Fcret@h/x\"\n", []string{"s3%2Fcret", "s3/cret"}},
		{"sentinel password", "url = \"redis://h/0?master_name=m&sentinel_password=s3cret&addr=bad\"\n", []string{"s3cret"}},
		{"url and host", "url = \"redis://:s3cret@h/0\"\nhost = \"h\"\n", []string{"s3cret"}},
		{"password twice", "url = \"redis://:s3cret@h/0\"\npassword = \"0ther\"\n", []string{"s3cret", "0ther"}},
		{"bad port with a password", "password = \"s3cret\"\nport = 0\n", []string{"s3cret"}},
		{"slash in the password", "url = \"redis://flapjack:pa/ss@h/0\"\n", []string{"pa/ss", `"pa"`, `":pa"`}},
		{"question mark in the password", "url = \"redis://flapjack:pa?ss@h/0\"\n", []string{"pa?ss", `"pa"`, `":pa"`}},
		{"hash in the password", "url = \"redis://flapjack:pa#ss@h/0\"\n", []string{"pa#ss", `"pa"`, `":pa"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "[redis]\n" + tc.table
			_, err := config.Parse([]byte(text), file)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want an error", text)
			}
			for _, s := range tc.secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error shows %q:\n%s", s, err)
				}
			}
			if !strings.HasPrefix(err.Error(), file+":") || !strings.Contains(err.Error(), "[redis]") {
				t.Errorf("error %q does not name the file, line and table", err)
			}
			// The same table built in Go: its errors are as discreet.
			var r config.Redis
			if err := tomlTable(tc.table, &r); err != nil {
				t.Fatal(err)
			}
			_, err = r.Options()
			for _, s := range tc.secrets {
				if err != nil && strings.Contains(err.Error(), s) {
					t.Errorf("Options() error shows %q:\n%s", s, err)
				}
				if strings.Contains(r.Redacted(), s) || strings.Contains(fmt.Sprint(r), s) {
					t.Errorf("Redacted() %q shows %q", r.Redacted(), s)
				}
			}
		})
	}
}

// tomlTable fills r from the lines of a [redis] table, without validation.
func tomlTable(text string, r *config.Redis) error {
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		k, v, _ := strings.Cut(line, " = ")
		switch k {
		case "url":
			r.URL = strings.Trim(v, `"`)
		case "host":
			r.Host = strings.Trim(v, `"`)
		case "password":
			r.Password = strings.Trim(v, `"`)
		case "port":
			var p int64
			if _, err := fmt.Sscan(v, &p); err != nil {
				return err
			}
			r.Port = &p
		default:
			return fmt.Errorf("tomlTable: key %q", k)
		}
	}
	return nil
}

func TestRedisScrub(t *testing.T) {
	r := config.Redis{URL: "redis://u:s3cret@h/0?master_name=m&sentinel_password=sp4ss"}
	msg := `dial "redis://u:s3cret@h/0?master_name=m&sentinel_password=sp4ss": AUTH s3cret sp4ss failed`
	got := r.Scrub(msg)
	if strings.Contains(got, "s3cret") || strings.Contains(got, "sp4ss") || !strings.Contains(got, "redis://u:xxxxx@h/0") {
		t.Errorf("Scrub(%q) = %q", msg, got)
	}
	r = config.Redis{Password: "pw-1"}
	if got := r.Scrub("WRONGPASS pw-1"); got != "WRONGPASS xxxxx" {
		t.Errorf("Scrub = %q", got)
	}
}
