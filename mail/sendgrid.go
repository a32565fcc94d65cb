package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sendgrid/rest"
	"github.com/sendgrid/sendgrid-go"
	sgmail "github.com/sendgrid/sendgrid-go/helpers/mail"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/certdesk/certdesk"
)

// SendGrid sends messages as SendGrid dynamic templates through the v3
// mail/send API. It is safe for concurrent use: every Send builds its own
// request. It never retries; the caller (a Temporal activity) does, guided
// by the *SendError.
type SendGrid struct {
	APIKey   string
	BaseURL  string // "" = https://api.sendgrid.com
	From     string
	FromName string
	// Sandbox makes SendGrid validate the request and send nothing.
	Sandbox bool
	// Templates maps a message kind to its dynamic template id.
	Templates map[string]string
	// Client is nil for a client with a 15 s timeout.
	Client *http.Client
}

var _ Mailer = (*SendGrid)(nil)

const (
	sendgridSendPath = "/v3/mail/send"
	// sendgridErrorMax bounds the provider's text kept in a SendError.
	sendgridErrorMax = 300
	// sendgridBodyMax bounds how much of a response is read.
	sendgridBodyMax = 64 << 10
	// sendgridDefaultRetryAfter is the wait after a 429 without a usable
	// X-RateLimit-Reset.
	sendgridDefaultRetryAfter = 10 * time.Second
)

// sendgridDefaultClient's calls are spans of the activity's trace when
// tracing is on (otelhttp; the API key is a header it does not record).
var sendgridDefaultClient = &http.Client{Timeout: 15 * time.Second, Transport: otelhttp.NewTransport(http.DefaultTransport,
	otelhttp.WithSpanNameFormatter(func(string, *http.Request) string { return "SendGrid mail/send" }))}

// Send sends m and returns SendGrid's X-Message-Id (which may be empty).
// Every failure is a *SendError.
func (s *SendGrid) Send(ctx context.Context, m Message) (string, error) {
	templateID, ok := s.templateID(m)
	if !ok || templateID == "" {
		return "", &SendError{Message: fmt.Sprintf(
			"no SendGrid template for kind %q: set SENDGRID_TEMPLATE_%s", m.Kind, strings.ToUpper(m.Kind))}
	}
	body, err := s.body(m, templateID)
	if err != nil {
		return "", &SendError{Message: s.redact(err.Error())}
	}

	// A fresh request per call: the SDK's Client writes the body into a
	// shared struct, so it cannot be used from several goroutines.
	r := sendgrid.GetRequest(s.APIKey, sendgridSendPath, strings.TrimSuffix(s.BaseURL, "/"))
	r.Method = rest.Post
	r.Body = body
	req, err := rest.BuildRequestObject(r)
	if err != nil {
		return "", &SendError{Message: s.redact("bad SendGrid request: " + err.Error())}
	}
	client := s.Client
	if client == nil {
		client = sendgridDefaultClient
	}
	res, err := client.Do(req.WithContext(ctx))
	if err != nil {
		msg := "SendGrid unreachable: " + err.Error()
		if ctx.Err() != nil {
			msg = "send abandoned: " + ctx.Err().Error()
		}
		return "", &SendError{Retryable: true, Message: s.redact(msg)}
	}
	defer res.Body.Close()
	// Reading the answer lets the connection be reused. A read error only
	// costs SendGrid's explanation: the status decides.
	data, _ := io.ReadAll(io.LimitReader(res.Body, sendgridBodyMax))

	switch code := res.StatusCode; {
	case code/100 == 2:
		return res.Header.Get("X-Message-Id"), nil
	case code == http.StatusTooManyRequests:
		return "", &SendError{
			Status:     code,
			Retryable:  true,
			RetryAfter: sendgridRetryAfter(res.Header.Get("X-RateLimit-Reset"), time.Now()),
			Message:    s.redact(sendgridErrorText(code, data)),
		}
	case code >= 500:
		return "", &SendError{Status: code, Retryable: true, Message: s.redact(sendgridErrorText(code, data))}
	default:
		// Other statuses (4xx, and anything unexpected) do not change on a retry.
		return "", &SendError{Status: code, Message: s.redact(sendgridErrorText(code, data))}
	}
}

// templateID is the dynamic template of a message: its kind's version in
// the recipient's language when one is configured (Templates keyed
// "<kind>_<locale>", from SENDGRID_TEMPLATE_<KIND>_<LOCALE>, e.g.
// SENDGRID_TEMPLATE_CONNECT_COMPLETED_PT_BR), else its kind's.
func (s *SendGrid) templateID(m Message) (string, bool) {
	if locale := messageLocale(m); locale != "" {
		if id := s.Templates[LocaleTemplateKey(m.Kind, locale)]; id != "" {
			return id, true
		}
	}
	id, ok := s.Templates[m.Kind]
	return id, ok
}

// LocaleTemplateKey is the Templates key of a kind's version in a language.
func LocaleTemplateKey(kind, locale string) string {
	return kind + "_" + strings.ToLower(strings.ReplaceAll(locale, "-", "_"))
}

// body is the mail/send JSON for m. custom_args carry the case id and step
// only: SendGrid stores them as non-personal data and echoes them in webhooks.
func (s *SendGrid) body(m Message, templateID string) ([]byte, error) {
	// GetRequestBody logs and drops a marshalling error (returning nil), so
	// the one part that can fail, the caller's data, is checked first.
	data := localized(m)
	if _, err := json.Marshal(data); err != nil {
		return nil, fmt.Errorf("template data for kind %q: %w", m.Kind, err)
	}

	p := sgmail.NewPersonalization()
	p.AddTos(sgmail.NewEmail(m.ToName, m.To))
	// The dynamic templates sign with the short reference people quote;
	// times and numbers come written the recipient's language's way.
	p.DynamicTemplateData = map[string]any{"reference": certdesk.Reference(m.CaseID)}
	for k, v := range data {
		p.DynamicTemplateData[k] = v
	}
	p.SetCustomArg("case_id", m.CaseID)
	p.SetCustomArg("step", m.Step)

	v3 := sgmail.NewV3Mail()
	v3.SetFrom(sgmail.NewEmail(s.FromName, s.From))
	v3.SetTemplateID(templateID)
	v3.AddPersonalizations(p)
	v3.SetHeader(LoopHeader, "1")
	if m.ReplyTo != "" {
		v3.SetReplyTo(sgmail.NewEmail("", m.ReplyTo))
	}
	if m.HasLinks {
		// Click tracking would rewrite (and log) the token links.
		ct := sgmail.NewClickTrackingSetting().SetEnable(false).SetEnableText(false)
		v3.SetTrackingSettings(sgmail.NewTrackingSettings().SetClickTracking(ct))
	}
	if s.Sandbox {
		v3.SetMailSettings(sgmail.NewMailSettings().SetSandboxMode(sgmail.NewSetting(true)))
	}
	body := sgmail.GetRequestBody(v3)
	if body == nil {
		return nil, errors.New("encoding the SendGrid request failed")
	}
	return body, nil
}

// redact removes the API key from text that may end up in logs.
// redact takes the API key and every address out of a text that goes into
// an error (the case's timeline, Temporal's failure, logs): SendGrid's
// answers echo the recipients they refuse.
func (s *SendGrid) redact(msg string) string {
	if s.APIKey != "" {
		msg = strings.ReplaceAll(msg, s.APIKey, "[redacted]")
	}
	return anAddress.ReplaceAllString(msg, "[address]")
}

// anAddress is anything shaped like an email address, generously.
var anAddress = regexp.MustCompile(`[^\s@"'<>(),;:\[\]]*@[^\s@"'<>(),;]+`)

// sendgridRetryAfter is the wait until reset, SendGrid's X-RateLimit-Reset
// (unix seconds): at least a second, or the default when reset is unusable.
func sendgridRetryAfter(reset string, now time.Time) time.Duration {
	sec, err := strconv.ParseInt(strings.TrimSpace(reset), 10, 64)
	if err != nil {
		return sendgridDefaultRetryAfter
	}
	return max(time.Unix(sec, 0).Sub(now), time.Second)
}

// sendgridErrorText is SendGrid's explanation of a failed send, from its
// {"errors":[{"message":…,"field":…}]} body when there is one.
func sendgridErrorText(status int, body []byte) string {
	var answer struct {
		Errors []struct {
			Message string `json:"message"`
			Field   any    `json:"field"`
		} `json:"errors"`
	}
	var parts []string
	if json.Unmarshal(body, &answer) == nil {
		for _, e := range answer.Errors {
			msg := e.Message
			if f, ok := e.Field.(string); ok && f != "" {
				msg = f + ": " + msg
			}
			if msg != "" {
				parts = append(parts, msg)
			}
		}
	}
	text := strings.Join(parts, "; ")
	if text == "" {
		text = http.StatusText(status)
		if raw := strings.Join(strings.Fields(string(body)), " "); raw != "" {
			text += ": " + raw
		}
	}
	return sendgridTruncate(text, sendgridErrorMax)
}

// sendgridTruncate cuts s to at most n bytes on a rune boundary.
func sendgridTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
