package prosodytest_test

import (
	"context"
	"net"
	"testing"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/x/flapjack/internal/prosodytest"
)

// login opens a session as user over StartTLS, verifying the server's
// certificate, and closes it.
func login(t *testing.T, srv *prosodytest.Server, user, pass string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", srv.Addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	s, err := xmpp.NewClientSession(ctx, jid.MustParse(srv.JID(user)+"/test"), conn,
		xmpp.StartTLS(srv.TLSConfig()), xmpp.SASL("", pass, sasl.ScramSha256, sasl.ScramSha1, sasl.Plain), xmpp.BindResource())
	if err != nil {
		return err
	}
	return s.Close()
}

func TestStartLoginRestart(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Config{Users: map[string]string{"alice": `pa"ss\word`}})
	if err := login(t, srv, "alice", `pa"ss\word`); err != nil {
		t.Fatalf("login: %v\n%s", err, srv.Log())
	}
	if err := login(t, srv, "alice", "wrong"); err == nil {
		t.Error("login with a wrong password succeeded")
	}
	srv.AddUser("bob", "bob-pass")
	if err := login(t, srv, "bob", "bob-pass"); err != nil {
		t.Fatalf("login of a user added while running: %v", err)
	}
	srv.Restart()
	if err := login(t, srv, "alice", `pa"ss\word`); err != nil {
		t.Fatalf("login after restart: %v", err)
	}
}
