package config

import (
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/mail"
)

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
		if _, multi := o.MultiTenant(); multi && o.StaffRoles() && o.StaffTenant == "" {
			errs = append(errs, errors.New("CERTDESK_OIDC_STAFF_TENANT is required with a multi-tenant issuer and staff roles: any tenant can give its own users the app's roles"))
		}
		if o.AgentRole != "" && o.AgentRole == o.SupervisorRole {
			errs = append(errs, fmt.Errorf("CERTDESK_OIDC_AGENT_ROLE and CERTDESK_OIDC_SUPERVISOR_ROLE are both %q: give each role its own value", o.AgentRole))
		}
	}
	if in := c.Inbound; in.Domain != "" {
		if !strings.Contains(in.Domain, ".") || strings.ContainsAny(in.Domain, "@ <>\"/") {
			errs = append(errs, fmt.Errorf("CERTDESK_INBOUND_DOMAIN: %q is not a domain (e.g. reply.certs.example.com, whose MX is mx.sendgrid.net)", in.Domain))
		}
		if a, err := netmail.ParseAddress(in.SupportAddress); err != nil || a.Address != in.SupportAddress || !strings.HasSuffix(a.Address, "@"+in.Domain) {
			errs = append(errs, fmt.Errorf("CERTDESK_SUPPORT_ADDRESS: %q is not an address of the inbound domain %s (SendGrid only posts mail of that domain)", in.SupportAddress, in.Domain))
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
	if c.Inbound.PublicKey != "" {
		if _, err := mail.NewWebhookVerifier(c.Inbound.PublicKey); err != nil {
			errs = append(errs, fmt.Errorf("SENDGRID_INBOUND_PUBLIC_KEY: not the Inbound Parse security policy's public key (base64 ECDSA): %v", err))
		}
	}
	if !strings.Contains(c.Mail.From, "@") {
		errs = append(errs, fmt.Errorf("CERTDESK_MAIL_FROM: %q is not an email address", c.Mail.From))
	}
	if c.WorkerVersioning {
		if err := checkVersionField("CERTDESK_WORKER_DEPLOYMENT", c.WorkerDeployment, true); err != nil {
			errs = append(errs, err)
		}
	}
	if c.WorkerVersioning || c.WorkerBuildID != "" {
		if err := checkVersionField("CERTDESK_WORKER_BUILD_ID", c.WorkerBuildID, false); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Temporal.Address != "" {
		if _, _, err := net.SplitHostPort(c.Temporal.Address); err != nil {
			errs = append(errs, fmt.Errorf("TEMPORAL_ADDRESS: %q is not host:port", c.Temporal.Address))
		}
	}
	return errors.Join(errs...)
}

// ValidateMailer checks what a process that sends mail needs (the worker).
// In production every message kind needs its SendGrid template, unless the
// sandbox sends nothing anyway or CERTDESK_ALLOW_MISSING_TEMPLATES says so:
// a worker without them would fail every such email later, case by case.
func (c Config) ValidateMailer() error {
	if c.Mode != ModeProduction {
		return nil
	}
	var errs []error
	if c.Mail.SendGridAPIKey == "" {
		errs = append(errs, errors.New("SENDGRID_API_KEY is required for the worker in production: it sends the case emails"))
	}
	if missing := c.MissingTemplates(); len(missing) > 0 && !c.Mail.SendGridSandbox && !c.Mail.AllowMissingTemplates {
		errs = append(errs, fmt.Errorf("every message kind needs its SendGrid dynamic template id; missing: %s (docs: README, Email; CERTDESK_ALLOW_MISSING_TEMPLATES=true starts anyway, and those emails fail on their cases)",
			strings.Join(missing, ", ")))
	}
	return errors.Join(errs...)
}

// MissingTemplates lists the variables of the message kinds that have no
// SendGrid template id: their emails would fail (visibly, on the case).
func (c Config) MissingTemplates() []string {
	var out []string
	for _, k := range mail.Kinds {
		if c.Mail.Templates[k.Kind] == "" {
			out = append(out, TemplateVariablePrefix+strings.ToUpper(k.Kind))
		}
	}
	return out
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// browsable turns a listen address into one a browser can open.
