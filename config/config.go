// Package config loads certdesk's configuration from the environment, once,
// at start: one struct, validated, passed explicitly, logged with secrets
// masked.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/mail"
)

// Mode says how certdesk runs.
type Mode string

const (
	// ModeDev is `certdesk dev`: everything embedded, mail captured, dev sign-in.
	ModeDev Mode = "dev"
	// ModeProduction is `api`, `worker`, `migrate` and `seed`.
	ModeProduction Mode = "production"
)

// Config is the whole configuration.
type Config struct {
	Mode Mode

	// DataDir holds the dev mode's SQLite files and generated secret.
	DataDir string
	// DatabaseURL is a postgres:// URL or a SQLite file path.
	DatabaseURL string
	// HTTPAddr is where the HTTP server listens.
	HTTPAddr string
	// PublicURL is the base of every link certdesk puts in an email; links
	// are never built from a request's Host header.
	PublicURL string
	// Secret signs sessions and CSRF tokens.
	Secret string
	// PayloadKeys encrypt what certdesk hands to Temporal ("id:base64key,…",
	// the first encrypts, all decrypt).
	PayloadKeys string
	// TemporalUIURL, when set, adds links from a case to its workflow.
	TemporalUIURL string
	// TaskQueue is the Temporal task queue of certdesk's workflows.
	TaskQueue string
	// TrustedProxies are the addresses (CIDRs) whose X-Forwarded-For is
	// believed; without them the client address is the peer's.
	TrustedProxies []string

	Mail Mail

	// OIDC is the production sign-in (OpenID Connect, e.g. Microsoft Entra ID).
	OIDC OIDC

	// Temporal is the client profile, read as the Temporal CLI reads it.
	Temporal envconfig.ClientConfigProfile

	AgentSLA    time.Duration
	CoolingOff  time.Duration
	VerifyTTL   time.Duration
	LearnerWait time.Duration
}

// OIDC configures sign-in with an OpenID Connect provider.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// TrustEmail accepts the provider's email claim without email_verified
	// (Entra ID does not send it); only for an issuer whose tenant owns the
	// addresses it issues.
	TrustEmail bool
}

// Enabled reports whether OpenID Connect sign-in is configured.
func (o OIDC) Enabled() bool { return o.Issuer != "" }

// Mail configures outgoing email.
type Mail struct {
	From     string
	FromName string
	// SendGridAPIKey selects SendGrid; without it (dev only) mail is captured.
	SendGridAPIKey  string
	SendGridBaseURL string
	// SendGridSandbox asks SendGrid to validate but not deliver.
	SendGridSandbox bool
	// SendGridWebhookKey is the base64 ECDSA public key of the signed event webhook.
	SendGridWebhookKey string
	// Templates maps a message kind to a SendGrid dynamic template id.
	Templates map[string]string
}

// Env is where variables come from: the process's environment (nil), or a
// MapEnv in tests. It is the SDK's envconfig lookup, so Temporal's variables
// are read from the same place.
type Env = envconfig.EnvLookup

// MapEnv is an Env backed by a map.
type MapEnv map[string]string

func (m MapEnv) LookupEnv(k string) (string, bool) { v, ok := m[k]; return v, ok }

func (m MapEnv) Environ() []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// Variables lists every environment variable certdesk itself reads (besides
// Temporal's own). The docker-compose test checks against it.
var Variables = []string{
	"CERTDESK_DATABASE_URL", "CERTDESK_HTTP_ADDR", "CERTDESK_PUBLIC_URL", "CERTDESK_SECRET", "CERTDESK_PAYLOAD_KEYS",
	"CERTDESK_TEMPORAL_UI_URL", "CERTDESK_TASK_QUEUE", "CERTDESK_TRUSTED_PROXIES", "CERTDESK_MAIL_FROM", "CERTDESK_MAIL_FROM_NAME",
	"CERTDESK_OIDC_ISSUER", "CERTDESK_OIDC_CLIENT_ID", "CERTDESK_OIDC_CLIENT_SECRET", "CERTDESK_OIDC_TRUST_EMAIL",
	"SENDGRID_API_KEY", "SENDGRID_BASE_URL", "SENDGRID_SANDBOX", "SENDGRID_WEBHOOK_PUBLIC_KEY",
	"CERTDESK_AGENT_SLA", "CERTDESK_COOLING_OFF", "CERTDESK_VERIFY_TTL", "CERTDESK_LEARNER_WAIT",
}

// TemplateVariablePrefix + an upper-cased message kind names the SendGrid
// template id of that kind, e.g. SENDGRID_TEMPLATE_CONNECT_COMPLETED.
const TemplateVariablePrefix = "SENDGRID_TEMPLATE_"

// TemporalVariables lists the Temporal client variables certdesk honours (read
// by the SDK's envconfig, as the Temporal CLI does).
var TemporalVariables = []string{
	"TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY", "TEMPORAL_TLS",
	"TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_CERT_DATA",
	"TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_CLIENT_KEY_DATA",
	"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_DATA",
	"TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION",
	"TEMPORAL_CONFIG_FILE", "TEMPORAL_PROFILE",
}

// Load reads the configuration for a mode. It does not validate; call
// Validate (dev mode fills its defaults first, see Dev).
func Load(mode Mode, env Env) (Config, error) {
	if env == nil {
		env = envconfig.EnvLookupOS
	}
	get := func(k, def string) string {
		if v, ok := env.LookupEnv(k); ok && strings.TrimSpace(v) != "" {
			return strings.TrimSpace(v)
		}
		return def
	}
	c := Config{
		Mode:           mode,
		DatabaseURL:    get("CERTDESK_DATABASE_URL", ""),
		HTTPAddr:       get("CERTDESK_HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:      strings.TrimRight(get("CERTDESK_PUBLIC_URL", ""), "/"),
		Secret:         get("CERTDESK_SECRET", ""),
		PayloadKeys:    get("CERTDESK_PAYLOAD_KEYS", ""),
		TemporalUIURL:  strings.TrimRight(get("CERTDESK_TEMPORAL_UI_URL", ""), "/"),
		TaskQueue:      get("CERTDESK_TASK_QUEUE", "certdesk"),
		TrustedProxies: splitList(get("CERTDESK_TRUSTED_PROXIES", "")),
		Mail: Mail{
			From:               get("CERTDESK_MAIL_FROM", "support@certdesk.example"),
			FromName:           get("CERTDESK_MAIL_FROM_NAME", "Certification Support"),
			SendGridAPIKey:     get("SENDGRID_API_KEY", ""),
			SendGridBaseURL:    strings.TrimRight(get("SENDGRID_BASE_URL", "https://api.sendgrid.com"), "/"),
			SendGridWebhookKey: get("SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
			Templates:          map[string]string{},
		},
	}
	c.OIDC = OIDC{
		Issuer:       strings.TrimRight(get("CERTDESK_OIDC_ISSUER", ""), "/"),
		ClientID:     get("CERTDESK_OIDC_CLIENT_ID", ""),
		ClientSecret: get("CERTDESK_OIDC_CLIENT_SECRET", ""),
	}
	var errs []error
	var err error
	if c.OIDC.TrustEmail, err = parseBool(get("CERTDESK_OIDC_TRUST_EMAIL", "false")); err != nil {
		errs = append(errs, fmt.Errorf("CERTDESK_OIDC_TRUST_EMAIL: %w", err))
	}
	if c.Mail.SendGridSandbox, err = parseBool(get("SENDGRID_SANDBOX", "false")); err != nil {
		errs = append(errs, fmt.Errorf("SENDGRID_SANDBOX: %w", err))
	}
	durations := []struct {
		key string
		dst *time.Duration
		def time.Duration
	}{
		{"CERTDESK_AGENT_SLA", &c.AgentSLA, certdesk.DefaultAgentSLA},
		{"CERTDESK_COOLING_OFF", &c.CoolingOff, certdesk.DefaultCoolingOff},
		{"CERTDESK_VERIFY_TTL", &c.VerifyTTL, certdesk.DefaultVerifyTTL},
		{"CERTDESK_LEARNER_WAIT", &c.LearnerWait, certdesk.DefaultLearnerWait},
	}
	for _, d := range durations {
		*d.dst = d.def
		if v := get(d.key, ""); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil || parsed <= 0 {
				errs = append(errs, fmt.Errorf("%s: %q is not a positive Go duration such as 48h or 90m", d.key, v))
				continue
			}
			*d.dst = parsed
		}
	}
	for _, kv := range env.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if kind, ok := strings.CutPrefix(k, TemplateVariablePrefix); ok && v != "" {
			c.Mail.Templates[strings.ToLower(kind)] = v
		}
	}
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{EnvLookup: env})
	if err != nil {
		errs = append(errs, fmt.Errorf("temporal client config: %w", err))
	}
	c.Temporal = prof
	if c.Temporal.Namespace == "" {
		c.Temporal.Namespace = "default"
	}
	if c.Temporal.Address == "" {
		c.Temporal.Address = "127.0.0.1:7233"
	}
	return c, errors.Join(errs...)
}

// Dev fills the dev mode's defaults: the store beside the embedded server in
// the data dir, a public URL from the HTTP address and a secret generated
// once and kept in the data dir (so sessions survive a restart).
func (c *Config) Dev(dataDir string) error {
	c.DataDir = dataDir
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(dataDir, "certdesk.db")
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + browsable(c.HTTPAddr)
	}
	if c.Secret == "" {
		secret, err := dataDirFile(filepath.Join(dataDir, "secret"), randomSecret)
		if err != nil {
			return err
		}
		c.Secret = secret
	}
	if c.PayloadKeys == "" {
		keys, err := dataDirFile(filepath.Join(dataDir, "payload-keys"), func() string { return codec.NewKey("dev1") })
		if err != nil {
			return err
		}
		c.PayloadKeys = keys
	}
	return nil
}

// Validate reports every problem at once, each with what to do about it.
func (c Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("CERTDESK_DATABASE_URL is required: a postgres://user:pass@host/db URL or a SQLite file path"))
	} else if strings.Contains(c.DatabaseURL, "://") {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			errs = append(errs, fmt.Errorf("CERTDESK_DATABASE_URL: %q is neither a postgres:// URL with a host nor a SQLite file path", maskURL(c.DatabaseURL)))
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("CERTDESK_HTTP_ADDR: %q is not host:port", c.HTTPAddr))
	}
	if c.PublicURL == "" {
		errs = append(errs, errors.New("CERTDESK_PUBLIC_URL is required: the https:// address learners reach certdesk at (email links are built from it)"))
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		errs = append(errs, fmt.Errorf("CERTDESK_PUBLIC_URL: %q is not an absolute http(s) URL without query", c.PublicURL))
	} else if c.Mode == ModeProduction && u.Scheme != "https" && !loopback(u.Hostname()) {
		errs = append(errs, fmt.Errorf("CERTDESK_PUBLIC_URL: %q must use https outside localhost", c.PublicURL))
	}
	for _, p := range c.TrustedProxies {
		if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
			errs = append(errs, fmt.Errorf("CERTDESK_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR", p))
		}
	}
	if o := c.OIDC; o.Issuer != "" || o.ClientID != "" || o.ClientSecret != "" {
		if u, err := url.Parse(o.Issuer); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("CERTDESK_OIDC_ISSUER: %q is not the issuer URL (e.g. https://login.microsoftonline.com/<tenant>/v2.0)", o.Issuer))
		}
		if o.ClientID == "" || o.ClientSecret == "" {
			errs = append(errs, errors.New("CERTDESK_OIDC_CLIENT_ID and CERTDESK_OIDC_CLIENT_SECRET are required with CERTDESK_OIDC_ISSUER"))
		}
	}
	if c.TemporalUIURL != "" {
		if u, err := url.Parse(c.TemporalUIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("CERTDESK_TEMPORAL_UI_URL: %q is not an absolute http(s) URL", c.TemporalUIURL))
		}
	}
	switch {
	case c.PayloadKeys == "" && c.Mode == ModeProduction:
		errs = append(errs, errors.New("CERTDESK_PAYLOAD_KEYS is required in production: the key that encrypts workflow payloads, as id:base64key (`certdesk keys new`)"))
	case c.PayloadKeys != "":
		if _, err := codec.Parse(c.PayloadKeys); err != nil {
			errs = append(errs, fmt.Errorf("CERTDESK_PAYLOAD_KEYS: %v", err))
		}
	}
	switch {
	case c.Secret == "" && c.Mode == ModeProduction:
		errs = append(errs, errors.New("CERTDESK_SECRET is required in production: at least 32 random characters (e.g. `openssl rand -base64 32`)"))
	case c.Secret != "" && len(c.Secret) < 32:
		errs = append(errs, fmt.Errorf("CERTDESK_SECRET is too short (%d characters): use at least 32 random characters", len(c.Secret)))
	}
	if c.Mail.SendGridBaseURL != "" {
		if u, err := url.Parse(c.Mail.SendGridBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("SENDGRID_BASE_URL: %q is not an absolute http(s) URL", c.Mail.SendGridBaseURL))
		}
	}
	if c.Mail.SendGridWebhookKey != "" {
		if _, err := mail.NewWebhookVerifier(c.Mail.SendGridWebhookKey); err != nil {
			errs = append(errs, fmt.Errorf("SENDGRID_WEBHOOK_PUBLIC_KEY: not SendGrid's verification key (the base64 ECDSA public key of the signed event webhook): %v", err))
		}
	}
	if !strings.Contains(c.Mail.From, "@") {
		errs = append(errs, fmt.Errorf("CERTDESK_MAIL_FROM: %q is not an email address", c.Mail.From))
	}
	if c.Temporal.Address != "" {
		if _, _, err := net.SplitHostPort(c.Temporal.Address); err != nil {
			errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS: %q is not host:port", c.Temporal.Address))
		}
	}
	return errors.Join(errs...)
}

// ValidateMailer checks what a process that sends mail needs (the worker).
func (c Config) ValidateMailer() error {
	if c.Mode == ModeProduction && c.Mail.SendGridAPIKey == "" {
		return errors.New("SENDGRID_API_KEY is required for the worker in production: it sends the case emails")
	}
	return nil
}

// Mailer returns the production mailer: SendGrid with the configured
// templates.
func (c Config) Mailer() *mail.SendGrid {
	return &mail.SendGrid{
		APIKey: c.Mail.SendGridAPIKey, BaseURL: c.Mail.SendGridBaseURL, From: c.Mail.From, FromName: c.Mail.FromName,
		Sandbox: c.Mail.SendGridSandbox, Templates: c.Mail.Templates,
	}
}

// TemporalClientOptions returns the SDK client options of the profile, with
// the payload codec.
func (c Config) TemporalClientOptions() (client.Options, error) {
	opts, err := c.Temporal.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return client.Options{}, fmt.Errorf("temporal client config: %w", err)
	}
	cd, err := c.Codec()
	if err != nil {
		return client.Options{}, err
	}
	opts.DataConverter = cd.DataConverter()
	return opts, nil
}

// Codec is the payload codec of the configured keys.
func (c Config) Codec() (*codec.Codec, error) {
	cd, err := codec.Parse(c.PayloadKeys)
	if err != nil {
		return nil, fmt.Errorf("CERTDESK_PAYLOAD_KEYS: %w", err)
	}
	return cd, nil
}

// IsPostgres reports whether the store is PostgreSQL (else SQLite).
func (c Config) IsPostgres() bool { return IsPostgresURL(c.DatabaseURL) }

// IsPostgresURL reports whether a database URL names PostgreSQL.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// LogValue logs the configuration with every secret masked.
func (c Config) LogValue() slog.Value {
	templates := make([]string, 0, len(c.Mail.Templates))
	for k := range c.Mail.Templates {
		templates = append(templates, k)
	}
	return slog.GroupValue(
		slog.String("mode", string(c.Mode)),
		slog.String("database_url", maskURL(c.DatabaseURL)),
		slog.String("http_addr", c.HTTPAddr),
		slog.String("public_url", c.PublicURL),
		slog.String("secret", mask(c.Secret)),
		slog.String("payload_keys", mask(c.PayloadKeys)),
		slog.String("temporal_address", c.Temporal.Address),
		slog.String("temporal_namespace", c.Temporal.Namespace),
		slog.String("temporal_api_key", mask(c.Temporal.APIKey)),
		slog.Bool("temporal_tls", c.Temporal.TLS != nil && !c.Temporal.TLS.Disabled || c.Temporal.APIKey != ""),
		slog.String("temporal_ui_url", c.TemporalUIURL),
		slog.String("task_queue", c.TaskQueue),
		slog.String("mail_from", c.Mail.From),
		slog.String("oidc_issuer", c.OIDC.Issuer),
		slog.String("oidc_client_id", c.OIDC.ClientID),
		slog.String("oidc_client_secret", mask(c.OIDC.ClientSecret)),
		slog.String("sendgrid_api_key", mask(c.Mail.SendGridAPIKey)),
		slog.Bool("sendgrid_sandbox", c.Mail.SendGridSandbox),
		slog.Int("sendgrid_templates", len(templates)),
		slog.Duration("agent_sla", c.AgentSLA),
		slog.Duration("cooling_off", c.CoolingOff),
		slog.Duration("verify_ttl", c.VerifyTTL),
		slog.Duration("learner_wait", c.LearnerWait),
	)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "****"
}

// maskURL hides a password in a database URL.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "****")
	}
	return u.String()
}

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// browsable turns a listen address into one a browser can open.
func browsable(addr string) string {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "127.0.0.1"
	}
	return net.JoinHostPort(h, p)
}

// dataDirFile reads a generated value kept in the data dir, making it on
// the first start (so sessions and encrypted histories survive restarts).
func dataDirFile(path string, generate func() string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	v := generate()
	if err := os.WriteFile(path, []byte(v+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return v, nil
}

func randomSecret() string {
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}
