package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/x/flapjack"
)

// Defaults of the broker.
const (
	// DefaultBrokerInterval is how often the cached states are sent.
	DefaultBrokerInterval = 10 * time.Second
	// DefaultBrokerTTL is how many seconds a state stays fresh when its
	// submission gives no ttl.
	DefaultBrokerTTL = 300
	// MaxBrokerBody is the largest submission the broker reads: 1 MiB.
	MaxBrokerBody = 1 << 20
)

// BrokerTag is the tag of the events the broker makes from New Relic and AWS
// SNS submissions.
const BrokerTag = "httpbroker"

// BrokerState is one cached submission: the latest for its entity and check.
type BrokerState struct {
	Entity  string   `json:"entity"`
	Check   string   `json:"check"`
	Type    string   `json:"type"`
	State   string   `json:"state"`
	Summary string   `json:"summary"`
	Details string   `json:"details"`
	Tags    []string `json:"tags"`
	// Time is the submission's Unix time, or when it arrived.
	Time int64 `json:"time"`
	// TTL is how many seconds after Time the state is fresh; a negative TTL
	// never goes stale.
	TTL int64 `json:"ttl"`
}

// Key is the state's cache key, "<entity>:<check>".
func (s *BrokerState) Key() string { return s.Entity + ":" + s.Check }

// Event is what the broker sends for s at now: s with time now, or, once s is
// older than its TTL, state unknown with a summary saying so.
func (s *BrokerState) Event(now time.Time) flapjack.Event {
	ev := flapjack.Event{
		Entity: s.Entity, Check: s.Check, State: s.State, Summary: s.Summary,
		Details: s.Details, Tags: slices.Clone(s.Tags), Time: now.Unix(),
	}
	if age := now.Unix() - s.Time; s.TTL >= 0 && age > s.TTL {
		ev.State = "UNKNOWN"
		ev.Summary = fmt.Sprintf("httpbroker: Cached state is stale (%ds old, should be < %ds)", age, s.TTL)
	}
	return ev
}

// BrokerOptions configure a Broker.
type BrokerOptions struct {
	// Sender delivers the events. Required.
	Sender Sender
	// Interval is how often every cached state is sent. Default
	// DefaultBrokerInterval (10 seconds).
	Interval time.Duration
	// Clock gives the time of submissions and of each sending. Default
	// flapjack.SystemClock.
	Clock flapjack.Clock
	// HTTPClient confirms AWS SNS subscriptions. Default a client whose
	// requests time out after DefaultHTTPTimeout.
	HTTPClient *http.Client
	// Logger receives submissions, confirmations and failed sends. Default
	// discard.
	Logger *slog.Logger
}

// Broker turns one-off HTTP submissions into the steady heartbeat Flapjack
// needs, as Flapjack v2's httpbroker does. It serves:
//
//	POST /state   a submission, in one of three forms told apart by their keys:
//	              a Flapjack event with a non-empty "entity" and an optional
//	              "ttl" in seconds (default 300); a New Relic alert webhook (a
//	              non-empty "condition_name"); or an AWS SNS message (a
//	              non-empty "SigningCertURL") carrying a CloudWatch alarm, or
//	              a subscription to confirm. It answers 200 "Caching state:
//	              <state as JSON>", or 400 saying what is wrong.
//	GET /state    every cached state, as a JSON object keyed "<entity>:<check>".
//
// The latest submission for an entity and check replaces the one before. Run
// sends every cached state each Interval, with the time of sending, until it
// goes stale (see BrokerState.Event). The cache lives in memory only.
//
// A New Relic alert is the check condition_name of the entity policy_name,
// critical when current_state is "alarm" (in any case), else ok. A CloudWatch
// alarm is the check Trigger.MetricName of the entity AlarmName, critical when
// NewStateValue is "ALARM", else ok, with NewStateReason as summary. Both get the
// tag BrokerTag. An SNS SubscriptionConfirmation is confirmed by fetching its
// SubscribeURL (http or https only); SNS signatures are not checked.
type Broker struct {
	opts BrokerOptions
	log  *slog.Logger

	mu    sync.Mutex
	cache map[string]BrokerState
}

// NewBroker returns a broker with an empty cache.
func NewBroker(opts BrokerOptions) *Broker {
	if opts.Interval <= 0 {
		opts.Interval = DefaultBrokerInterval
	}
	if opts.Clock == nil {
		opts.Clock = flapjack.SystemClock{}
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Broker{opts: opts, log: log, cache: map[string]BrokerState{}}
}

// States returns a copy of the cache.
func (b *Broker) States() map[string]BrokerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.cache)
}

// Put caches s, replacing the state of the same entity and check.
func (b *Broker) Put(s BrokerState) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cache[s.Key()] = s
}

// Run sends every cached state each Interval until ctx ends, and then returns
// nil. Failed sends are logged; the state is sent again at the next tick.
func (b *Broker) Run(ctx context.Context) error {
	t := time.NewTicker(b.opts.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := b.SendAll(ctx); err != nil && ctx.Err() == nil {
				b.log.Error("cached states not all sent", "err", err)
			}
		}
	}
}

// SendAll sends every cached state once, as of the clock's now, in the order of
// their keys, and returns the errors of those not sent.
func (b *Broker) SendAll(ctx context.Context) error {
	now := b.opts.Clock.Now()
	states := b.States()
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(states)) {
		s := states[k]
		if err := b.opts.Sender.Send(ctx, s.Event(now)); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", k, err))
		}
	}
	return errors.Join(errs...)
}

// ServeHTTP implements http.Handler.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/state" {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(b.States())
	case http.MethodPost:
		b.post(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "use POST to submit a state, GET to see the cache", http.StatusMethodNotAllowed)
	}
}

// errConfirm is a subscription that could not be confirmed.
var errConfirm = errors.New("cannot confirm the subscription")

func (b *Broker) post(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBrokerBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("the body is larger than %d bytes", MaxBrokerBody), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	s, msg, err := b.submission(r.Context(), body)
	switch {
	case errors.Is(err, errConfirm):
		b.log.Warn("SNS subscription not confirmed", "err", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	case s == nil:
		_, _ = io.WriteString(w, msg+"\n")
		return
	}
	b.Put(*s)
	js, _ := json.Marshal(s)
	b.log.Debug("caching state", "key", s.Key(), "state", s.State, "ttl", s.TTL)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = fmt.Fprintf(w, "Caching state: %s\n", js)
}

// submission reads a body into the state to cache, or, for a message that
// carries none, into a reply.
func (b *Broker) submission(ctx context.Context, body []byte) (*BrokerState, string, error) {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(body, &keys); err != nil || keys == nil {
		return nil, "", errors.New("the body is not a JSON object")
	}
	var s BrokerState
	switch {
	case nonEmptyString(keys["entity"]):
		var f struct {
			BrokerState
			TTL *int64 `json:"ttl"`
		}
		if err := json.Unmarshal(body, &f); err != nil {
			return nil, "", fmt.Errorf("Flapjack event: %v", err)
		}
		s = f.BrokerState
		s.TTL = DefaultBrokerTTL
		if f.TTL != nil && *f.TTL != 0 {
			s.TTL = *f.TTL
		}
		var problems []string
		if s.Check == "" {
			problems = append(problems, "check: missing")
		}
		if _, err := flapjack.ParseCondition(s.State); err != nil {
			problems = append(problems, fmt.Sprintf("state: %s is not ok, warning, critical or unknown", quote(s.State)))
		}
		if s.Time < 0 {
			problems = append(problems, fmt.Sprintf("time: %d is not a Unix time", s.Time))
		}
		if len(problems) > 0 {
			return nil, "", fmt.Errorf("Flapjack event: %s", strings.Join(problems, "; "))
		}
	case nonEmptyString(keys["condition_name"]):
		var n struct {
			ConditionName          string `json:"condition_name"`
			PolicyName             string `json:"policy_name"`
			CurrentState           string `json:"current_state"`
			Details                string `json:"details"`
			IncidentAcknowledgeURL string `json:"incident_acknowledge_url"`
		}
		if err := json.Unmarshal(body, &n); err != nil {
			return nil, "", fmt.Errorf("New Relic alert: %v", err)
		}
		if n.PolicyName == "" {
			return nil, "", errors.New("New Relic alert: policy_name: missing")
		}
		s = BrokerState{
			Entity: n.PolicyName, Check: n.ConditionName, State: "ok", TTL: DefaultBrokerTTL,
			Summary: "New Relic Alert Received: " + n.Details + " Ack the alert using the following URL: " + n.IncidentAcknowledgeURL,
			Tags:    []string{BrokerTag},
		}
		if strings.EqualFold(n.CurrentState, "alarm") {
			s.State = "critical"
		}
	case nonEmptyString(keys["SigningCertURL"]):
		return b.sns(ctx, body)
	default:
		return nil, "", errors.New(`unknown submission: want a Flapjack event (with "entity"), a New Relic alert (with "condition_name") or an AWS SNS message (with "SigningCertURL")`)
	}
	if s.Time == 0 {
		s.Time = b.opts.Clock.Now().Unix()
	}
	if s.Type == "" {
		s.Type = "service"
	}
	return &s, "", nil
}

// sns reads an AWS SNS message: a subscription to confirm, or a CloudWatch alarm.
func (b *Broker) sns(ctx context.Context, body []byte) (*BrokerState, string, error) {
	var m struct {
		Type         string `json:"Type"`
		Message      string `json:"Message"`
		SubscribeURL string `json:"SubscribeURL"`
		TopicArn     string `json:"TopicArn"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, "", fmt.Errorf("AWS SNS message: %v", err)
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		if err := b.confirm(ctx, m.SubscribeURL); err != nil {
			return nil, "", err
		}
		b.log.Info("SNS subscription confirmed", "topic", m.TopicArn)
		return nil, "Subscription confirmed", nil
	case "UnsubscribeConfirmation":
		return nil, "Unsubscribed", nil
	}
	var a struct {
		AlarmName      string `json:"AlarmName"`
		NewStateValue  string `json:"NewStateValue"`
		NewStateReason string `json:"NewStateReason"`
		Trigger        struct {
			MetricName string `json:"MetricName"`
		} `json:"Trigger"`
	}
	if err := json.Unmarshal([]byte(m.Message), &a); err != nil {
		return nil, "", fmt.Errorf("AWS SNS message: Message is not a CloudWatch alarm: %v", err)
	}
	var problems []string
	if a.AlarmName == "" {
		problems = append(problems, "AlarmName: missing")
	}
	if a.Trigger.MetricName == "" {
		problems = append(problems, "Trigger.MetricName: missing")
	}
	if len(problems) > 0 {
		return nil, "", fmt.Errorf("AWS SNS message: CloudWatch alarm: %s", strings.Join(problems, "; "))
	}
	s := BrokerState{
		Entity: a.AlarmName, Check: a.Trigger.MetricName, Type: "service", State: "ok",
		Summary: a.NewStateReason, Tags: []string{BrokerTag},
		Time: b.opts.Clock.Now().Unix(), TTL: DefaultBrokerTTL,
	}
	if a.NewStateValue == "ALARM" {
		s.State = "critical"
	}
	return &s, "", nil
}

// confirm fetches an SNS subscription's SubscribeURL.
func (b *Broker) confirm(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("AWS SNS subscription: SubscribeURL %s is not an http or https URL", quote(raw))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("%w: %v", errConfirm, err)
	}
	resp, err := b.opts.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL holds the subscription's token
		}
		return fmt.Errorf("%w: GET %s://%s%s: %v", errConfirm, u.Scheme, u.Host, u.Path, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: GET %s://%s%s: %s", errConfirm, u.Scheme, u.Host, u.Path, resp.Status)
	}
	return nil
}

// nonEmptyString reports whether v is a JSON string other than "".
func nonEmptyString(v json.RawMessage) bool {
	var s string
	return json.Unmarshal(v, &s) == nil && s != ""
}

var _ http.Handler = (*Broker)(nil)
