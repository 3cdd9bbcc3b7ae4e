// Package sns is the "sns" gateway: it publishes each alert to an Amazon SNS
// topic, whose subscribers (email, SMS, queues, functions…) then receive it.
// The medium's address is the topic's ARN.
//
//	[gateways.sns]
//	enabled = true
//	access_key = "AKIAIOSFODNN7EXAMPLE"   # required
//	secret_key = "wJalrXUtnFEMI/K7MDENG"  # required
//	# session_token = "…"                 # only for temporary credentials
//	region_name = "us-east-1"             # the default
//	# endpoint = "https://sns.us-east-1.amazonaws.com"  # default: the topic's region's
//	timeout = 10                          # seconds, the default
//
// Flapjack v2 read this table as [gateways.aws_sns], the name of its
// process, while its media and queue were named sns. Here every gateway
// table is named after its transport, so the table is [gateways.sns] and its
// alerts wait on sns_notifications; a [gateways.aws_sns] table that is
// enabled stops the daemon with a message saying to rename it, rather than
// being ignored or delivering from the wrong queue.
//
// Each alert becomes one Publish call of the SNS Query API: an HTTPS POST to
// https://sns.<region>.amazonaws.com/ of the form Action=Publish,
// Version=2010-03-31, TopicArn (the medium's address), Subject (the "sns"
// template alert_subject, as email's subject, its line breaks made spaces and
// cut to 100 characters, the last three then "...") and Message (the "sns"
// template alert, the SMS text), signed with AWS Signature Version 4 (service
// sns). The region is the topic ARN's, so that topics of every region can be
// reached, or region_name for an address that names none; with an endpoint
// configured, every call goes there, signed for region_name.
//
// A 2xx response is a delivery. 408, 429 and 5xx may be retried, and so may
// the throttling errors SNS answers with 400 (Throttling, KMSThrottling…);
// other 4xx (InvalidParameter, NotFound, AuthorizationError,
// SignatureDoesNotMatch…) are permanent, and the error names SNS's code. No
// error or log line shows the secret key or the session token.
package sns

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/x/flapjack"
	"github.com/x/flapjack/gateway"
	"github.com/x/flapjack/gateway/internal/endpoint"
)

// Transport is the transport name the gateway registers under.
const Transport = "sns"

// V2Name is the name Flapjack v2 gave this gateway's table. It is registered
// only to refuse it with [ErrV2Name], which says what to do.
const V2Name = "aws_sns"

// ErrV2Name is the error of a gateway built under [V2Name].
var ErrV2Name = errors.New(`the Flapjack v2 table name "aws_sns" is not used: ` +
	`configure this gateway as [gateways.sns], after the transport of its media`)

// The defaults of Config, the longest subject sent, and the API version
// called.
const (
	DefaultRegion    = "us-east-1"
	MaxSubjectLength = 100
	APIVersion       = "2010-03-31"
)

// signingName is the service name in SNS's signatures.
const signingName = "sns"

// Config is the gateway's configuration section.
type Config struct {
	// AccessKey is the AWS access key ID. Required.
	AccessKey string `json:"access_key"`
	// SecretKey is the AWS secret access key. Required.
	SecretKey string `json:"secret_key"`
	// SessionToken is the session token of temporary credentials. Default:
	// empty, for long-term keys.
	SessionToken string `json:"session_token"`
	// RegionName is the AWS region of topics whose ARN names none, and the
	// region signatures name when Endpoint is set. Default: "us-east-1".
	RegionName string `json:"region_name"`
	// Endpoint is the URL every call goes to, such as a VPC endpoint or a test
	// double. Default: empty, https://sns.<region>.amazonaws.com/ of the
	// topic's region.
	Endpoint string `json:"endpoint"`
	// Timeout is how long one delivery may take, in seconds. Default: 10.
	Timeout float64 `json:"timeout"`
}

func init() {
	gateway.Register(Transport, func(cfg gateway.Config, env gateway.Env) (gateway.Gateway, error) {
		var c Config
		if err := cfg.Decode(&c); err != nil {
			return nil, err
		}
		return New(c, env)
	})
	gateway.Register(V2Name, func(gateway.Config, gateway.Env) (gateway.Gateway, error) {
		return nil, ErrV2Name
	})
}

// Gateway publishes alerts to SNS topics.
type Gateway struct {
	creds     aws.Credentials
	region    string
	endpoint  *url.URL // nil: the topic's region's
	timeout   time.Duration
	signer    *v4.Signer
	client    *http.Client
	clock     flapjack.Clock
	templates *gateway.Templates
}

// region matches AWS region names, such as "us-east-1" or "cn-north-1".
var region = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// New returns an SNS gateway, or an error listing every problem of cfg.
func New(cfg Config, env gateway.Env) (*Gateway, error) {
	env = env.WithDefaults()
	g := &Gateway{
		creds: aws.Credentials{
			AccessKeyID: cfg.AccessKey, SecretAccessKey: cfg.SecretKey, SessionToken: cfg.SessionToken,
			Source: "flapjack configuration",
		},
		region: cfg.RegionName, signer: v4.NewSigner(),
		client: env.HTTPClient, clock: env.Clock, templates: env.Templates,
	}
	if g.region == "" {
		g.region = DefaultRegion
	}
	var errs []error
	if cfg.AccessKey == "" {
		errs = append(errs, errors.New("access_key: required"))
	}
	if cfg.SecretKey == "" {
		errs = append(errs, errors.New("secret_key: required"))
	}
	if !region.MatchString(g.region) {
		errs = append(errs, fmt.Errorf("region_name: %q is not an AWS region name such as us-east-1", g.region))
	}
	if cfg.Endpoint != "" {
		switch u, err := url.Parse(cfg.Endpoint); {
		case err != nil:
			errs = append(errs, errors.New("endpoint: not a valid URL"))
		case u.Scheme != "https" && u.Scheme != "http":
			errs = append(errs, errors.New("endpoint: want an https URL"))
		case u.Host == "":
			errs = append(errs, errors.New("endpoint: URL has no host"))
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, errors.New("endpoint: want a URL without user information, query or fragment"))
		default:
			if u.Path == "" {
				u.Path = "/"
			}
			g.endpoint = u
		}
	}
	timeout, err := endpoint.Timeout(cfg.Timeout)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	g.timeout = timeout
	endpoint.WarnPlain(env.Logger, Transport, g.endpoint)
	return g, nil
}

// topicARN matches an SNS topic's ARN, capturing its partition and region.
var topicARN = regexp.MustCompile(`^arn:(aws[a-z-]*):sns:([a-z0-9-]*):[0-9]{12}:[A-Za-z0-9_.-]{1,256}$`)

// endpointFor returns the URL and signing region of a Publish to the topic
// arn: the configured endpoint and region_name, or else the public endpoint
// of the topic's region.
func (g *Gateway) endpointFor(arn string) (*url.URL, string) {
	if g.endpoint != nil {
		return g.endpoint, g.region
	}
	r, host := g.region, "amazonaws.com"
	if m := topicARN.FindStringSubmatch(arn); m != nil && region.MatchString(m[2]) {
		r = m[2]
	}
	if strings.HasPrefix(r, "cn-") {
		host = "amazonaws.com.cn"
	}
	return &url.URL{Scheme: "https", Host: "sns." + r + "." + host, Path: "/"}, r
}

// Send publishes a to the topic whose ARN is a's address. An address that is
// not a topic ARN, a template that cannot render a, and a 4xx response other
// than 408, 429 and throttling are permanent failures.
func (g *Gateway) Send(ctx context.Context, a *flapjack.Alert) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sns: %w", err)
	}
	if !topicARN.MatchString(a.Address) {
		return gateway.Permanent(errors.New("sns: the medium's address is not an SNS topic ARN"))
	}
	subject, err := g.templates.Render(Transport, gateway.AlertSubjectTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("sns: %w", err))
	}
	message, err := g.templates.Render(Transport, gateway.AlertTemplate, gateway.FormatText, a, nil)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("sns: %w", err))
	}
	form := url.Values{"Action": {"Publish"}, "Version": {APIVersion}, "TopicArn": {a.Address}, "Message": {message}}
	if s := Subject(subject); s != "" {
		form.Set("Subject", s)
	}
	body := []byte(form.Encode())
	u, signingRegion := g.endpointFor(a.Address)
	header, err := g.sign(ctx, u, body, signingRegion)
	if err != nil {
		return gateway.Permanent(fmt.Errorf("sns: %w", err))
	}
	req := gateway.HTTPRequest{Method: http.MethodPost, URL: u, Header: header, Body: body, Timeout: g.timeout}
	resp, err := req.Do(ctx, g.client)
	if err != nil {
		return classify(err, resp)
	}
	return nil
}

// sign returns the headers of a signed Publish request of body to u.
func (g *Gateway) sign(ctx context.Context, u *url.URL, body []byte, signingRegion string) (http.Header, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, errors.New("cannot build the request to sign")
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256(body)
	if err := g.signer.SignHTTP(ctx, g.creds, r, hex.EncodeToString(sum[:]), signingName, signingRegion, g.clock.Now()); err != nil {
		return nil, errors.New("cannot sign the request")
	}
	return r.Header, nil
}

// Subject makes text an SNS subject: control characters, line breaks
// included, become spaces, and it is cut to 100 characters.
func Subject(text string) string {
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	return gateway.Truncate(strings.TrimSpace(text), MaxSubjectLength)
}

// apiError is the error document of the SNS Query API; only its code is read.
type apiError struct {
	Code string `xml:"Error>Code"`
}

// errorCode matches SNS's error codes; any other text is not shown.
var errorCode = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.]{0,63}$`)

// retryable are the codes SNS answers a request it may accept later with,
// whatever the HTTP status.
var retryable = map[string]bool{
	"Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottled": true, "TooManyRequestsException": true, "RequestLimitExceeded": true,
	"KMSThrottling": true, "ServiceUnavailable": true, "InternalError": true, "InternalFailure": true,
}

// classify names SNS's error code in err, and makes a throttling error
// retryable whatever its status.
func classify(err error, body []byte) error {
	var ae apiError
	if xml.Unmarshal(body, &ae) != nil || !errorCode.MatchString(ae.Code) {
		return fmt.Errorf("sns: %w", err)
	}
	var se *gateway.StatusError
	if retryable[ae.Code] && gateway.IsPermanent(err) && errors.As(err, &se) {
		err = &gateway.StatusError{Code: se.Code, RetryAfter: se.RetryAfter}
	}
	return fmt.Errorf("sns: %w (%s)", err, ae.Code)
}

var _ gateway.Gateway = (*Gateway)(nil)
