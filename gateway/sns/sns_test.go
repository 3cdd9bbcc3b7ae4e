package sns_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/gatewaytest"
	"github.com/x/flapjack/gateway/internal/endpointtest"
	"github.com/x/flapjack/gateway/sns"
)

const (
	accessKey    = "AKIAIOSFODNN7EXAMPLE"
	secretKey    = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	sessionToken = "FwoGZXIvYXdzEXAMPLEs3ssi0nT0ken"
	topic        = "arn:aws:sns:us-east-1:698519295917:My-Topic"
)

// now is the time of every signature, but the conformance suite's.
var now = time.Date(2016, 2, 1, 12, 0, 5, 0, time.UTC)

func env(client *http.Client) gateway.Env {
	return gateway.Env{HTTPClient: client, Clock: flapjack.ClockFunc(func() time.Time { return now })}
}

func newGateway(t *testing.T, cfg gateway.MapConfig, env gateway.Env) gateway.Gateway {
	t.Helper()
	g, err := gateway.New(sns.Transport, cfg, env)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestConformance(t *testing.T) {
	gatewaytest.Run(t, gatewaytest.Harness{
		Transport: sns.Transport,
		Failures:  gatewaytest.HTTPFailures(),
		New: func(t *testing.T, env gateway.Env) gatewaytest.Target {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g, err := sns.New(sns.Config{AccessKey: accessKey, SecretKey: secretKey, SessionToken: sessionToken, Endpoint: ep.URL}, env)
			if err != nil {
				t.Fatal(err)
			}
			return gatewaytest.Target{
				Gateway: g, Address: topic, Delivered: endpointtest.Delivered(t, ep), Fail: ep.Fail,
				Secrets: []string{secretKey, sessionToken},
			}
		},
	})
}

// authorization is the shape of a SigV4 Authorization header.
var authorization = regexp.MustCompile(`^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)/([0-9]{8})/([a-z0-9-]+)/sns/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$`)

// verify checks that r, received by host, carries a SigV4 signature for the
// SNS service in region, made with the secret key and session token (empty
// for none), by signing the request again as AWS does and comparing.
func verify(r gatewaytest.Request, host, region, secret, token string) error {
	auth := r.Header.Get("Authorization")
	m := authorization.FindStringSubmatch(auth)
	if m == nil {
		return fmt.Errorf("Authorization %q is not a SigV4 header", auth)
	}
	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return fmt.Errorf("X-Amz-Date %q: %v", r.Header.Get("X-Amz-Date"), err)
	}
	if m[2] != at.Format("20060102") || m[3] != region {
		return fmt.Errorf("credential scope %s/%s, want %s/%s", m[2], m[3], at.Format("20060102"), region)
	}
	req, err := http.NewRequest(r.Method, "http://"+host+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	for _, h := range strings.Split(m[4], ";") {
		if h != "host" && h != "content-length" {
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	sum := sha256.Sum256(r.Body)
	creds := aws.Credentials{AccessKeyID: m[1], SecretAccessKey: secret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "sns", region, at); err != nil {
		return err
	}
	if got := req.Header.Get("Authorization"); got != auth {
		return fmt.Errorf("signature does not match:\n got %s\nwant %s", auth, got)
	}
	return nil
}

var subjects = map[string]string{
	"problem":         "Problem: 'app-01:HTTP' is Critical",
	"recovery":        "Recovery: 'app-01:HTTP' is OK",
	"acknowledgement": "Acknowledgement: 'app-01:HTTP'",
	"test":            "Test: 'app-01:HTTP'",
	"rollup problem":  "Problem summary: Critical: 2, Warning: 1",
	"rollup recovery": "Problem summaries finishing: Warning: 1",
}

// TestRequests checks the exact request for every kind of alert, and its
// signature.
func TestRequests(t *testing.T) {
	for _, kind := range gatewaytest.Kinds() {
		t.Run(kind, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": ep.URL}, env(nil))
			if err := g.Send(context.Background(), gatewaytest.NewAlert(kind, sns.Transport, topic)); err != nil {
				t.Fatal(err)
			}
			reqs := ep.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != http.MethodPost || r.Path != "/" || r.RawQuery != "" {
				t.Errorf("request %s %s?%s, want POST /", r.Method, r.Path, r.RawQuery)
			}
			for k, v := range map[string]string{
				"Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
				"X-Amz-Date":   "20160201T120005Z",
			} {
				if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := r.Header.Get("X-Amz-Security-Token"); got != "" {
				t.Errorf("X-Amz-Security-Token %q sent without a session token", got)
			}
			want := url.Values{
				"Action": {"Publish"}, "Version": {"2010-03-31"}, "TopicArn": {topic},
				"Subject": {subjects[kind]}, "Message": {endpointtest.SMSTexts[kind]},
			}
			if string(r.Body) != want.Encode() {
				t.Errorf("body\n got %s\nwant %s", r.Body, want.Encode())
			}
			auth := r.Header.Get("Authorization")
			wantPrefix := "AWS4-HMAC-SHA256 Credential=" + accessKey + "/20160201/us-east-1/sns/aws4_request, " +
				"SignedHeaders=content-length;content-type;host;x-amz-date, Signature="
			if !strings.HasPrefix(auth, wantPrefix) {
				t.Errorf("Authorization\n got %s\nwant %s<signature>", auth, wantPrefix)
			}
			if err := verify(r, strings.TrimPrefix(ep.URL, "http://"), "us-east-1", secretKey, ""); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSignature checks that the signature covers what it must: a request
// whose body, secret or region differs does not verify.
func TestSignature(t *testing.T) {
	ep := gatewaytest.NewHTTPEndpoint(t)
	g := newGateway(t, gateway.MapConfig{
		"access_key": accessKey, "secret_key": secretKey, "session_token": sessionToken,
		"region_name": "eu-west-1", "endpoint": ep.URL,
	}, env(nil))
	if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", sns.Transport, topic)); err != nil {
		t.Fatal(err)
	}
	r := ep.Requests()[0]
	host := strings.TrimPrefix(ep.URL, "http://")
	if got := r.Header.Get("X-Amz-Security-Token"); got != sessionToken {
		t.Errorf("X-Amz-Security-Token %q, want the session token", got)
	}
	if m := authorization.FindStringSubmatch(r.Header.Get("Authorization")); m == nil || m[4] != "content-length;content-type;host;x-amz-date;x-amz-security-token" {
		t.Errorf("SignedHeaders of %q, want the session token signed too", r.Header.Get("Authorization"))
	}
	if err := verify(r, host, "eu-west-1", secretKey, sessionToken); err != nil {
		t.Fatalf("the request does not verify: %v", err)
	}
	tampered := r
	tampered.Body = bytes.Replace(r.Body, []byte("Critical"), []byte("Warning"), 1)
	for name, err := range map[string]error{
		"tampered body": verify(tampered, host, "eu-west-1", secretKey, sessionToken),
		"other secret":  verify(r, host, "eu-west-1", "another-secret-key", sessionToken),
		"other region":  verify(r, host, "us-east-1", secretKey, sessionToken),
		"other host":    verify(r, "sns.eu-west-1.amazonaws.com", "eu-west-1", secretKey, sessionToken),
	} {
		if err == nil {
			t.Errorf("%s: verified, want a mismatch", name)
		}
	}
}

// TestEndpoint checks where each topic's alerts go, and for which region they
// are signed.
func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    gateway.MapConfig
		topic  string
		url    string
		region string
	}{
		{"default region", nil, topic, "https://sns.us-east-1.amazonaws.com/", "us-east-1"},
		{"the topic's region", nil, "arn:aws:sns:ap-southeast-2:698519295917:ops", "https://sns.ap-southeast-2.amazonaws.com/", "ap-southeast-2"},
		{"region_name for a topic of no region", gateway.MapConfig{"region_name": "eu-west-1"}, "arn:aws:sns::698519295917:ops", "https://sns.eu-west-1.amazonaws.com/", "eu-west-1"},
		{"China", nil, "arn:aws-cn:sns:cn-north-1:698519295917:ops.fifo", "https://sns.cn-north-1.amazonaws.com.cn/", "cn-north-1"},
		{"GovCloud", nil, "arn:aws-us-gov:sns:us-gov-west-1:698519295917:ops", "https://sns.us-gov-west-1.amazonaws.com/", "us-gov-west-1"},
		{"configured endpoint", gateway.MapConfig{"endpoint": "https://vpce-0123.sns.eu-west-1.vpce.amazonaws.com", "region_name": "eu-west-1"},
			"arn:aws:sns:us-east-1:698519295917:ops", "https://vpce-0123.sns.eu-west-1.vpce.amazonaws.com/", "eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			client, asked := endpointtest.Redirect(t, ep.URL)
			cfg := gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey}
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			g := newGateway(t, cfg, env(client))
			if err := g.Send(context.Background(), gatewaytest.NewAlert("problem", sns.Transport, tc.topic)); err != nil {
				t.Fatal(err)
			}
			u := asked()[0]
			if u.String() != tc.url {
				t.Errorf("request for %s, want %s", u.String(), tc.url)
			}
			if err := verify(ep.Requests()[0], u.Host, tc.region, secretKey, ""); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestSubject(t *testing.T) {
	long := strings.Repeat("a", 120)
	for _, tc := range []struct {
		name, check, want string
	}{
		{"short", "app-01:HTTP", "Problem: 'app-01:HTTP' is Critical"},
		{"at the limit", long[:100-len("Problem: '' is Critical")], "Problem: '" + long[:100-len("Problem: '' is Critical")] + "' is Critical"},
		{"over the limit", long, "Problem: '" + long[:100-len("Problem: '")-3] + "..."},
		{"line breaks", "app-01:\nHTTP\r\tcheck", "Problem: 'app-01: HTTP  check' is Critical"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			g := newGateway(t, gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": ep.URL}, env(nil))
			a := gatewaytest.NewAlert("problem", sns.Transport, topic)
			a.CheckName = tc.check
			if err := g.Send(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			got := endpointtest.Values(t, ep.Requests()[0]).Get("Subject")
			if got != tc.want {
				t.Errorf("Subject\n got %q\nwant %q", got, tc.want)
			}
			if len(got) > sns.MaxSubjectLength {
				t.Errorf("Subject of %d characters", len(got))
			}
		})
	}
}

func TestStatus(t *testing.T) {
	for _, tc := range endpointtest.Statuses {
		t.Run(http.StatusText(tc.Code), func(t *testing.T) {
			ep := gatewaytest.NewHTTPEndpoint(t)
			ep.Fail("status " + strconv.Itoa(tc.Code))
			g := newGateway(t, gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": ep.URL}, env(nil))
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", sns.Transport, topic))
			if err == nil {
				t.Fatal("no error")
			}
			if want := "sns: HTTP status " + strconv.Itoa(tc.Code) + " " + http.StatusText(tc.Code); err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if gateway.IsPermanent(err) != tc.Permanent {
				t.Errorf("permanent %v, want %v", !tc.Permanent, tc.Permanent)
			}
			gatewaytest.AssertNoSecrets(t, []string{secretKey}, err.Error())
		})
	}
}

// TestSNSErrors checks that SNS's error code is named and decides whether a
// 400 may be retried.
func TestSNSErrors(t *testing.T) {
	doc := func(code, message string) string {
		return `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>` + code +
			`</Code><Message>` + message + `</Message></Error><RequestId>9f0c0f5e-0000-5c1e-8f3b-000000000000</RequestId></ErrorResponse>`
	}
	for _, tc := range []struct {
		status int
		body   string
		err    string
		perm   bool
	}{
		{400, doc("InvalidParameter", "Invalid parameter: TopicArn "+secretKey), "sns: HTTP status 400 Bad Request (InvalidParameter)", true},
		{403, doc("AuthorizationError", "User is not authorized"), "sns: HTTP status 403 Forbidden (AuthorizationError)", true},
		{403, doc("SignatureDoesNotMatch", "The request signature we calculated does not match"), "sns: HTTP status 403 Forbidden (SignatureDoesNotMatch)", true},
		{404, doc("NotFound", "Topic does not exist"), "sns: HTTP status 404 Not Found (NotFound)", true},
		{400, doc("Throttling", "Rate exceeded"), "sns: HTTP status 400 Bad Request (Throttling)", false},
		{400, doc("KMSThrottling", "KMS rate exceeded"), "sns: HTTP status 400 Bad Request (KMSThrottling)", false},
		{429, doc("ThrottledException", "Rate exceeded"), "sns: HTTP status 429 Too Many Requests (ThrottledException)", false},
		{500, doc("InternalError", "Internal error"), "sns: HTTP status 500 Internal Server Error (InternalError)", false},
		{400, doc(secretKey, "a code that is not one"), "sns: HTTP status 400 Bad Request", true},
		{502, "<html>" + secretKey + "</html>", "sns: HTTP status 502 Bad Gateway", false},
	} {
		t.Run(tc.err, func(t *testing.T) {
			srv, _ := endpointtest.Server(t, tc.status, tc.body)
			g := newGateway(t, gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": srv.URL}, env(nil))
			err := g.Send(context.Background(), gatewaytest.NewAlert("problem", sns.Transport, topic))
			if err == nil || err.Error() != tc.err {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
			if gateway.IsPermanent(err) != tc.perm {
				t.Errorf("permanent %v, want %v", !tc.perm, tc.perm)
			}
			var se *gateway.StatusError
			if !errors.As(err, &se) || se.Code != tc.status {
				t.Errorf("error %v does not carry status %d", err, tc.status)
			}
			gatewaytest.AssertNoSecrets(t, []string{secretKey}, err.Error())
		})
	}
}

func TestAddress(t *testing.T) {
	for _, address := range []string{"", "My-Topic", "+61400000001", "arn:aws:sqs:us-east-1:698519295917:queue", "arn:aws:sns:us-east-1:6985:My-Topic"} {
		ep := gatewaytest.NewHTTPEndpoint(t)
		g := newGateway(t, gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": ep.URL}, env(nil))
		err := g.Send(context.Background(), gatewaytest.NewAlert("problem", sns.Transport, address))
		if err == nil || !gateway.IsPermanent(err) || err.Error() != "sns: the medium's address is not an SNS topic ARN" {
			t.Errorf("address %q: %v, want a permanent error", address, err)
		}
		if n := len(ep.Requests()); n != 0 {
			t.Errorf("address %q: %d requests, want none", address, n)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  gateway.MapConfig
		want []string
	}{
		{"empty", gateway.MapConfig{}, []string{"access_key: required", "secret_key: required"}},
		{"no secret", gateway.MapConfig{"access_key": accessKey}, []string{"secret_key: required"}},
		{"everything wrong at once", gateway.MapConfig{
			"session_token": sessionToken, "region_name": "Sydney", "endpoint": "https://" + accessKey + ":" + url.PathEscape(secretKey) + "@sns.example.com/", "timeout": -1,
		}, []string{
			"access_key: required", "secret_key: required", `region_name: "Sydney" is not an AWS region name`,
			"endpoint: want a URL without user information", "timeout: -1 seconds is negative",
		}},
		{"endpoint scheme", gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": "sns.us-east-1.amazonaws.com"}, []string{"endpoint: want an https URL"}},
		{"endpoint query", gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "endpoint": "https://sns.example.com/?key=" + secretKey}, []string{"endpoint: want a URL without"}},
		{"unknown key", gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey, "region": "us-east-1"}, []string{`unknown key "region"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.New(sns.Transport, tc.cfg, gateway.Env{})
			if err == nil {
				t.Fatalf("config %v accepted", tc.cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not report %q", err, w)
				}
			}
			gatewaytest.AssertNoSecrets(t, []string{secretKey, sessionToken}, err.Error())
		})
	}
}

// TestV2Name checks that Flapjack v2's table name is refused with a message
// saying what to do, rather than ignored.
func TestV2Name(t *testing.T) {
	_, err := gateway.New(sns.V2Name, gateway.MapConfig{"access_key": accessKey, "secret_key": secretKey}, gateway.Env{})
	if !errors.Is(err, sns.ErrV2Name) || !strings.Contains(err.Error(), "[gateways.sns]") {
		t.Errorf("gateway %s: %v, want ErrV2Name naming [gateways.sns]", sns.V2Name, err)
	}
}

// TestScenarios are Flapjack v2's SNS delivery scenarios: an alert is
// published to AWS, and a failing service is counted as a failure without
// stopping anything.
func TestScenarios(t *testing.T) {
	for _, tc := range []struct {
		name       string
		status     int
		sent, dead uint64
	}{
		{"D08 the service answers 200", http.StatusOK, 1, 0},
		{"D10 the service answers 500", http.StatusInternalServerError, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := endpointtest.Server(t, tc.status, "")
			client, asked := endpointtest.Redirect(t, srv.URL)
			g := newGateway(t, gateway.MapConfig{"access_key": "AKIAIOSFODNN7EXAMPLE", "secret_key": "secret"}, gateway.Env{HTTPClient: client})
			a := &flapjack.Alert{
				ID: "alert-1", Transport: sns.Transport, Address: "arn:aws:sns:us-east-1:698519295917:My-Topic",
				ContactName: "James Smithson", CheckName: "example.com:PING", Type: flapjack.TypeProblem,
				Condition: flapjack.Critical, ConditionDuration: 15 * time.Second, Time: time.Now(),
			}
			s := endpointtest.Deliver(t, sns.Transport, g, a)
			if requests() != 1 {
				t.Fatalf("%d requests made, want 1", requests())
			}
			if u := asked()[0]; u.Scheme != "https" || !strings.HasSuffix(u.Host, ".amazonaws.com") {
				t.Errorf("request for %s, want https://*.amazonaws.com", u.String())
			}
			if s.Sent != tc.sent || s.DeadLettered != tc.dead || s.Failed != tc.dead {
				t.Errorf("sent %d, failed %d, dead-lettered %d; want %d, %d, %d", s.Sent, s.Failed, s.DeadLettered, tc.sent, tc.dead, tc.dead)
			}
		})
	}
}
