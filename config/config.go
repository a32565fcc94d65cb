// Package config loads certdesk's configuration from the environment, once,
// at start: one struct, validated, passed explicitly, logged with secrets
// masked.
package config

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	// WorkerHTTPAddr is where `certdesk worker` serves /healthz, /readyz
	// and /metrics; empty (CERTDESK_WORKER_HTTP_ADDR=off) serves nothing.
	WorkerHTTPAddr string
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

	// Inbound is email coming in: replies to case emails and mail to the
	// support address, posted by SendGrid's Inbound Parse.
	Inbound Inbound

	// OIDC is the production sign-in (OpenID Connect, e.g. Microsoft Entra ID).
	OIDC OIDC

	// Temporal is the client profile, read as the Temporal CLI reads it.
	Temporal envconfig.ClientConfigProfile

	AgentSLA    time.Duration
	CoolingOff  time.Duration
	VerifyTTL   time.Duration
	LearnerWait time.Duration
	// UnmergeWindow is how long after a merge it can be undone.
	UnmergeWindow time.Duration
	// Retention is how long a case keeps its personal data after it ended.
	Retention time.Duration

	// TokenMaxTTL is the longest an agent's personal access token may live.
	TokenMaxTTL time.Duration

	// WorkerStopTimeout is how long a stopping worker gives the tasks it
	// runs to finish before it cancels them.
	WorkerStopTimeout time.Duration
	// WorkerVersioning makes the worker one version of a Temporal Worker
	// Deployment: WorkerDeployment names the deployment (default: the task
	// queue), WorkerBuildID this build (default: DefaultBuildID). A build
	// takes new cases once it is made current (`certdesk deploy
	// set-current`); see the README's "Deploying a new build". Off, every
	// worker takes every task, as before.
	WorkerVersioning bool
	WorkerDeployment string
	WorkerBuildID    string
	// WebhookRetryFor is how long a domain event is retried for a
	// subscriber before it is given up; WebhookTimeout bounds one attempt.
	WebhookRetryFor time.Duration
	WebhookTimeout  time.Duration
	// WebhookMaxBackoff caps the wait between two attempts at an event: a
	// receiver that comes back gets its backlog within it.
	WebhookMaxBackoff time.Duration
}

// Inbound configures replies by email. Without a Domain, case emails carry
// no reply address and the inbound webhook answers 404.
type Inbound struct {
	// Domain is the inbound domain whose MX record points to SendGrid
	// (mx.sendgrid.net): reply addresses are reply+<token>@Domain.
	Domain string
	// SupportAddress is where a learner writes to open a question (an
	// inquiry case); default support@Domain.
	SupportAddress string
	// PublicKey is the Inbound Parse security policy's signature public
	// key (base64 DER, as SendGrid shows it). Outside dev mode a post
	// without a valid signature is refused, and without the key every post.
	PublicKey string
	// AttachmentRetention is how long attachments are kept after their
	// case ends.
	AttachmentRetention time.Duration
}

// DevInboundDomain is dev mode's inbound domain: nothing routes mail to it;
// the mailbox's Reply button posts as SendGrid would.
const DevInboundDomain = "reply.certdesk.localhost"

// DefaultTokenMaxTTL is how long a personal access token may live at most,
// unless CERTDESK_TOKEN_MAX_TTL says otherwise: a year.
const DefaultTokenMaxTTL = 365 * 24 * time.Hour

// DefaultWorkerStopTimeout is how long a stopping worker waits for its
// running activities: longer than an email send, which gives up after 15 s.
const DefaultWorkerStopTimeout = 30 * time.Second

// The webhook defaults: three days of retries (a receiver down over a
// weekend gets everything), ten seconds for one attempt.
const (
	DefaultWebhookRetryFor = 72 * time.Hour
	DefaultWebhookTimeout  = 10 * time.Second
	// DefaultWebhookMaxBackoff: a receiver back from an outage gets its
	// backlog within the hour.
	DefaultWebhookMaxBackoff = time.Hour
)

// DefaultWorkerHTTPAddr is where the worker serves its health and metrics
// unless CERTDESK_WORKER_HTTP_ADDR says otherwise: this host only (the
// image sets 0.0.0.0:9090, for probes from outside the container).
const DefaultWorkerHTTPAddr = "127.0.0.1:9090"

// WorkerHTTPOff is the CERTDESK_WORKER_HTTP_ADDR that turns the worker's
// HTTP off (an empty variable is unset, as every other).
const WorkerHTTPOff = "off"

// OIDC configures sign-in with an OpenID Connect provider.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// TrustEmail accepts the provider's email claim without email_verified
	// (Entra ID does not send it); only for an issuer whose tenant owns the
	// addresses it issues.
	TrustEmail bool
	// RolesClaim names the ID token's claim that carries app roles (Entra
	// ID: roles; groups arrive in groups); AgentRole and SupervisorRole
	// are its values that make someone staff. With neither set, staff
	// come only from `certdesk staff`.
	RolesClaim     string
	AgentRole      string
	SupervisorRole string
	// StaffTenant, when set, is the only tenant (tid) whose tokens give
	// staff roles; required with a multi-tenant issuer.
	StaffTenant string
	// PersonalTenants are the tenants (the tid claim) whose accounts are
	// personal; any other tenant is work or school. A token without tid
	// is personal. Default: Entra ID's consumer tenant.
	PersonalTenants []string
}

// MultiTenant reports whether the issuer is one of Entra ID's multi-tenant
// endpoints (…/common/v2.0, …/organizations/v2.0, …/consumers/v2.0), whose
// tokens each carry their own tenant's issuer, and returns that issuer's
// template ({tenantid} stands for the token's tid).
func (o OIDC) MultiTenant() (string, bool) {
	u, err := url.Parse(o.Issuer)
	if err != nil {
		return "", false
	}
	for _, t := range []string{"/common/v2.0", "/organizations/v2.0", "/consumers/v2.0"} {
		if strings.HasSuffix(u.Path, t) {
			return u.Scheme + "://" + u.Host + strings.TrimSuffix(u.Path, t) + "/{tenantid}/v2.0", true
		}
	}
	return "", false
}

// StaffRoles reports whether the provider's roles decide who is staff.
func (o OIDC) StaffRoles() bool { return o.AgentRole != "" || o.SupervisorRole != "" }

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
	// AllowMissingTemplates lets the production worker start although some
	// message kinds have no template (their emails fail, visibly).
	AllowMissingTemplates bool
	// SendGridWebhookKey is the base64 ECDSA public key of the signed event webhook.
	SendGridWebhookKey string
	// Templates maps a message kind to a SendGrid dynamic template id
	// (SENDGRID_TEMPLATE_<KIND>), and a kind in a language to the id of
	// its version there (SENDGRID_TEMPLATE_<KIND>_<LOCALE>, keyed as
	// mail.LocaleTemplateKey: SENDGRID_TEMPLATE_RECOVERY_VERIFY_PT_BR is
	// "recovery_verify_pt_br"). A kind without one in the recipient's
	// language is sent with its own template.
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
	"CERTDESK_OIDC_ROLES_CLAIM", "CERTDESK_OIDC_AGENT_ROLE", "CERTDESK_OIDC_SUPERVISOR_ROLE", "CERTDESK_OIDC_PERSONAL_TENANTS",
	"CERTDESK_OIDC_STAFF_TENANT",
	"SENDGRID_API_KEY", "SENDGRID_BASE_URL", "SENDGRID_SANDBOX", "SENDGRID_WEBHOOK_PUBLIC_KEY",
	"CERTDESK_ALLOW_MISSING_TEMPLATES", "CERTDESK_AGENT_SLA", "CERTDESK_COOLING_OFF", "CERTDESK_VERIFY_TTL", "CERTDESK_LEARNER_WAIT", "CERTDESK_TOKEN_MAX_TTL",
	"CERTDESK_UNMERGE_WINDOW",
	"CERTDESK_INBOUND_DOMAIN", "CERTDESK_SUPPORT_ADDRESS", "SENDGRID_INBOUND_PUBLIC_KEY", "CERTDESK_ATTACHMENT_RETENTION", "CERTDESK_RETENTION",
	"CERTDESK_WORKER_HTTP_ADDR", "CERTDESK_WORKER_STOP_TIMEOUT",
	"CERTDESK_WORKER_VERSIONING", "CERTDESK_WORKER_DEPLOYMENT", "CERTDESK_WORKER_BUILD_ID",
	"CERTDESK_WEBHOOK_RETRY_FOR", "CERTDESK_WEBHOOK_TIMEOUT", "CERTDESK_WEBHOOK_MAX_BACKOFF",
}

// TemplateVariablePrefix + an upper-cased message kind names the SendGrid
// template id of that kind, e.g. SENDGRID_TEMPLATE_CONNECT_COMPLETED.
const TemplateVariablePrefix = "SENDGRID_TEMPLATE_"

// templateKeys are the Templates keys a variable may set: every message
// kind, and every kind in every language the mail is written in.
var templateKeys = func() map[string]bool {
	keys := map[string]bool{}
	for _, k := range mail.Kinds {
		keys[k.Kind] = true
		for _, l := range mail.Locales() {
			keys[mail.LocaleTemplateKey(k.Kind, l)] = true
		}
	}
	return keys
}()

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
		WorkerHTTPAddr: get("CERTDESK_WORKER_HTTP_ADDR", DefaultWorkerHTTPAddr),
		PublicURL:      strings.TrimRight(get("CERTDESK_PUBLIC_URL", ""), "/"),
		Secret:         get("CERTDESK_SECRET", ""),
		PayloadKeys:    get("CERTDESK_PAYLOAD_KEYS", ""),
		TemporalUIURL:  strings.TrimRight(get("CERTDESK_TEMPORAL_UI_URL", ""), "/"),
		TaskQueue:      get("CERTDESK_TASK_QUEUE", "certdesk"),
		TrustedProxies: splitList(get("CERTDESK_TRUSTED_PROXIES", "")),
		WorkerBuildID:  get("CERTDESK_WORKER_BUILD_ID", ""),
		Mail: Mail{
			From:               get("CERTDESK_MAIL_FROM", "support@certdesk.example"),
			FromName:           get("CERTDESK_MAIL_FROM_NAME", "Certification Support"),
			SendGridAPIKey:     get("SENDGRID_API_KEY", ""),
			SendGridBaseURL:    strings.TrimRight(get("SENDGRID_BASE_URL", "https://api.sendgrid.com"), "/"),
			SendGridWebhookKey: get("SENDGRID_WEBHOOK_PUBLIC_KEY", ""),
			Templates:          map[string]string{},
		},
	}
	c.Inbound = Inbound{
		Domain:         strings.ToLower(strings.TrimSuffix(get("CERTDESK_INBOUND_DOMAIN", ""), ".")),
		SupportAddress: strings.ToLower(get("CERTDESK_SUPPORT_ADDRESS", "")),
		PublicKey:      get("SENDGRID_INBOUND_PUBLIC_KEY", ""),
	}
	c.OIDC = OIDC{
		Issuer:       strings.TrimRight(get("CERTDESK_OIDC_ISSUER", ""), "/"),
		ClientID:     get("CERTDESK_OIDC_CLIENT_ID", ""),
		ClientSecret: get("CERTDESK_OIDC_CLIENT_SECRET", ""),
		RolesClaim:   get("CERTDESK_OIDC_ROLES_CLAIM", "roles"),
		AgentRole:    get("CERTDESK_OIDC_AGENT_ROLE", ""),
		// Entra ID's tenant of personal Microsoft accounts.
		PersonalTenants: splitList(get("CERTDESK_OIDC_PERSONAL_TENANTS", "9188040d-6c67-4c5b-b112-36a304b66dad")),
		SupervisorRole:  get("CERTDESK_OIDC_SUPERVISOR_ROLE", ""),
		StaffTenant:     get("CERTDESK_OIDC_STAFF_TENANT", ""),
	}
	var errs []error
	var err error
	if c.WorkerHTTPAddr == WorkerHTTPOff {
		c.WorkerHTTPAddr = ""
	} else if _, _, err := net.SplitHostPort(c.WorkerHTTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("CERTDESK_WORKER_HTTP_ADDR: %q is neither host:port nor %s", c.WorkerHTTPAddr, WorkerHTTPOff))
	}
	// The deployment is the task queue's unless named: two installations
	// sharing a namespace on their own task queues get their own.
	c.WorkerDeployment = get("CERTDESK_WORKER_DEPLOYMENT", c.TaskQueue)
	if c.WorkerVersioning, err = parseBool(get("CERTDESK_WORKER_VERSIONING", "false")); err != nil {
		errs = append(errs, fmt.Errorf("CERTDESK_WORKER_VERSIONING: %w", err))
	}
	if c.WorkerVersioning && c.WorkerBuildID == "" {
		if c.WorkerBuildID, err = DefaultBuildID(); err != nil {
			errs = append(errs, fmt.Errorf("CERTDESK_WORKER_BUILD_ID is not set and this binary's own could not be found (%v): set it, e.g. to the image's tag", err))
		}
	}
	if c.OIDC.TrustEmail, err = parseBool(get("CERTDESK_OIDC_TRUST_EMAIL", "false")); err != nil {
		errs = append(errs, fmt.Errorf("CERTDESK_OIDC_TRUST_EMAIL: %w", err))
	}
	if c.Mail.SendGridSandbox, err = parseBool(get("SENDGRID_SANDBOX", "false")); err != nil {
		errs = append(errs, fmt.Errorf("SENDGRID_SANDBOX: %w", err))
	}
	if c.Mail.AllowMissingTemplates, err = parseBool(get("CERTDESK_ALLOW_MISSING_TEMPLATES", "false")); err != nil {
		errs = append(errs, fmt.Errorf("CERTDESK_ALLOW_MISSING_TEMPLATES: %w", err))
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
		{"CERTDESK_UNMERGE_WINDOW", &c.UnmergeWindow, certdesk.DefaultUnmergeWindow},
		{"CERTDESK_ATTACHMENT_RETENTION", &c.Inbound.AttachmentRetention, certdesk.DefaultAttachmentRetention},
		{"CERTDESK_RETENTION", &c.Retention, certdesk.DefaultRetention},
		{"CERTDESK_TOKEN_MAX_TTL", &c.TokenMaxTTL, DefaultTokenMaxTTL},
		{"CERTDESK_WORKER_STOP_TIMEOUT", &c.WorkerStopTimeout, DefaultWorkerStopTimeout},
		{"CERTDESK_WEBHOOK_RETRY_FOR", &c.WebhookRetryFor, DefaultWebhookRetryFor},
		{"CERTDESK_WEBHOOK_TIMEOUT", &c.WebhookTimeout, DefaultWebhookTimeout},
		{"CERTDESK_WEBHOOK_MAX_BACKOFF", &c.WebhookMaxBackoff, DefaultWebhookMaxBackoff},
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
			if !templateKeys[strings.ToLower(kind)] {
				// A typo (…_PTBR) would quietly send English.
				errs = append(errs, fmt.Errorf("%s names no message kind, nor a kind in one of the languages %s (e.g. %sRECOVERY_VERIFY_PT_BR)",
					k, strings.Join(mail.Locales(), ", "), TemplateVariablePrefix))
				continue
			}
			c.Mail.Templates[strings.ToLower(kind)] = v
		}
	}
	prof, err := envconfig.LoadClientConfigProfile(envconfig.LoadClientConfigProfileOptions{EnvLookup: env})
	if err != nil {
		errs = append(errs, fmt.Errorf("temporal client config: %w", err))
	}
	c.Temporal = prof
	if c.Inbound.SupportAddress == "" && c.Inbound.Domain != "" {
		c.Inbound.SupportAddress = "support@" + c.Inbound.Domain
	}
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
	if c.Inbound.Domain == "" {
		c.Inbound.Domain = DevInboundDomain
		if c.Inbound.SupportAddress == "" {
			c.Inbound.SupportAddress = "support@" + DevInboundDomain
		}
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

// IsPostgres reports whether the store is PostgreSQL (else SQLite).
func (c Config) IsPostgres() bool { return IsPostgresURL(c.DatabaseURL) }

// IsPostgresURL reports whether a database URL names PostgreSQL.
func IsPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
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

func parseBool(s string) (bool, error) {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", s)
	}
	return b, nil
}

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
