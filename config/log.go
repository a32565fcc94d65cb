package config

import (
	"log/slog"
	"net/url"
)

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
		slog.String("oidc_roles_claim", c.OIDC.RolesClaim),
		slog.String("oidc_agent_role", c.OIDC.AgentRole),
		slog.String("oidc_supervisor_role", c.OIDC.SupervisorRole),
		slog.String("sendgrid_api_key", mask(c.Mail.SendGridAPIKey)),
		slog.Bool("sendgrid_sandbox", c.Mail.SendGridSandbox),
		slog.Int("sendgrid_templates", len(templates)),
		slog.Duration("agent_sla", c.AgentSLA),
		slog.Duration("cooling_off", c.CoolingOff),
		slog.Duration("verify_ttl", c.VerifyTTL),
		slog.Duration("learner_wait", c.LearnerWait),
		slog.Duration("token_max_ttl", c.TokenMaxTTL),
		slog.String("worker_http_addr", c.WorkerHTTPAddr),
		slog.Duration("worker_stop_timeout", c.WorkerStopTimeout),
		slog.Bool("worker_versioning", c.WorkerVersioning),
		slog.String("worker_deployment", c.WorkerDeployment),
		slog.String("worker_build_id", c.WorkerBuildID),
		slog.Duration("webhook_retry_for", c.WebhookRetryFor),
		slog.Duration("webhook_timeout", c.WebhookTimeout),
		slog.Duration("webhook_max_backoff", c.WebhookMaxBackoff),
	)
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
