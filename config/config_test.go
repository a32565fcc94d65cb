package config_test

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
)

func load(t *testing.T, mode config.Mode, env config.MapEnv) (config.Config, error) {
	t.Helper()
	cfg, err := config.Load(mode, env)
	if err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

var good = config.MapEnv{
	"CERTDESK_DATABASE_URL": "postgres://certdesk:hunter2@db.internal:5432/certdesk",
	"CERTDESK_PUBLIC_URL":   "https://support.example.com/",
	"CERTDESK_SECRET":       strings.Repeat("k", 40),
	"CERTDESK_PAYLOAD_KEYS": codec.NewKey("k1"),
}

func with(env config.MapEnv, kv ...string) config.MapEnv {
	out := config.MapEnv{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestValidationMessages(t *testing.T) {
	tests := []struct {
		name string
		env  config.MapEnv
		want []string // each must appear in the error
	}{
		{"nothing set", config.MapEnv{}, []string{"CERTDESK_DATABASE_URL is required", "CERTDESK_PUBLIC_URL is required", "CERTDESK_SECRET is required in production", "CERTDESK_PAYLOAD_KEYS is required"}},
		{"bad payload key", with(good, "CERTDESK_PAYLOAD_KEYS", "k1:short"), []string{"CERTDESK_PAYLOAD_KEYS"}},
		{"short secret", with(good, "CERTDESK_SECRET", "abc"), []string{"CERTDESK_SECRET is too short"}},
		{"mysql URL", with(good, "CERTDESK_DATABASE_URL", "mysql://x/y"), []string{"CERTDESK_DATABASE_URL", "neither a postgres:// URL"}},
		{"public URL not a URL", with(good, "CERTDESK_PUBLIC_URL", "support desk"), []string{"CERTDESK_PUBLIC_URL", "not an absolute http(s) URL"}},
		{"public URL plain http", with(good, "CERTDESK_PUBLIC_URL", "http://support.example.com"), []string{"must use https"}},
		{"bad duration", with(good, "CERTDESK_COOLING_OFF", "three days"), []string{"CERTDESK_COOLING_OFF", "not a positive Go duration"}},
		{"bad listen address", with(good, "CERTDESK_HTTP_ADDR", "8080"), []string{"CERTDESK_HTTP_ADDR"}},
		{"bad sandbox flag", with(good, "SENDGRID_SANDBOX", "maybe"), []string{"SENDGRID_SANDBOX"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := load(t, config.ModeProduction, tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q shows the database password", err)
			}
		})
	}
	if _, err := load(t, config.ModeProduction, good); err != nil {
		t.Fatalf("good production config refused: %v", err)
	}
	if _, err := load(t, config.ModeDev, config.MapEnv{"CERTDESK_DATABASE_URL": "/tmp/x.db", "CERTDESK_PUBLIC_URL": "http://127.0.0.1:8080"}); err != nil {
		t.Fatalf("dev config without a secret refused: %v", err)
	}
}

func TestDevDefaults(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load(config.ModeDev, config.MapEnv{"CERTDESK_HTTP_ADDR": "0.0.0.0:9090"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Dev(dir); err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "http://127.0.0.1:9090" || !strings.HasPrefix(cfg.DatabaseURL, dir) || len(cfg.Secret) < 32 {
		t.Fatalf("dev defaults: %+v", cfg)
	}
	again, _ := config.Load(config.ModeDev, config.MapEnv{})
	_ = again.Dev(dir)
	if again.Secret != cfg.Secret {
		t.Fatal("the dev secret changed between starts: sessions would not survive a restart")
	}
	if cfg.AgentSLA != 48*time.Hour || cfg.CoolingOff != 72*time.Hour || cfg.VerifyTTL != 24*time.Hour || cfg.LearnerWait != 336*time.Hour {
		t.Fatalf("durations: %v %v %v %v", cfg.AgentSLA, cfg.CoolingOff, cfg.VerifyTTL, cfg.LearnerWait)
	}
}

func TestTemplatesFromEnvironment(t *testing.T) {
	cfg, err := load(t, config.ModeProduction, with(good, "SENDGRID_TEMPLATE_CONNECT_COMPLETED", "d-123"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.Templates["connect_completed"] != "d-123" {
		t.Fatalf("templates = %v", cfg.Mail.Templates)
	}
}

func TestLoggedWithSecretsMasked(t *testing.T) {
	cfg, err := load(t, config.ModeProduction, with(good, "TEMPORAL_API_KEY", "tmprl-secret-key", "SENDGRID_API_KEY", "SG.secret"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", cfg)
	out := buf.String()
	for _, secret := range []string{"hunter2", strings.Repeat("k", 40), "tmprl-secret-key", "SG.secret", good["CERTDESK_PAYLOAD_KEYS"][3:]} {
		if strings.Contains(out, secret) {
			t.Errorf("log line shows a secret (%s): %s", secret, out)
		}
	}
	for _, shown := range []string{"db.internal", "https://support.example.com", "****"} {
		if !strings.Contains(out, shown) {
			t.Errorf("log line lacks %q: %s", shown, out)
		}
	}
}

// The compose file sets only variables the loader reads, sets every one a
// production process needs, and its values pass validation.
func TestDockerComposeMatchesTheConfigLoader(t *testing.T) {
	raw, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Build       any               `yaml:"build"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	known := append(slices.Clone(config.Variables), config.TemporalVariables...)
	// The issuers a team follows the README with: one tenant, or Entra
	// ID's common endpoint (learners' personal and work accounts) with the
	// staff's tenant named.
	issuers := []struct{ issuer, staffTenant string }{
		{"https://login.microsoftonline.com/tenant/v2.0", ""},
		{"https://login.microsoftonline.com/common/v2.0", "contoso-tenant-id"},
	}
	// ${VAR:-default} and ${VAR:?message} take a value, as compose would.
	interp := regexp.MustCompile(`\$\{([A-Z_]+)(?::[-?]([^}]*))?\}`)
	built := 0
	for name, svc := range compose.Services {
		if svc.Build == nil {
			continue
		}
		built++
		for _, iss := range issuers {
			env := config.MapEnv{}
			for k, v := range svc.Environment {
				if !slices.Contains(known, k) && !strings.HasPrefix(k, config.TemplateVariablePrefix) {
					t.Errorf("%s sets %s, which the config loader does not read", name, k)
				}
				env[k] = interp.ReplaceAllStringFunc(v, func(m string) string {
					parts := interp.FindStringSubmatch(m)
					switch {
					case parts[1] == "CERTDESK_PAYLOAD_KEYS":
						return codec.NewKey("k1")
					case parts[1] == "CERTDESK_OIDC_ISSUER":
						return iss.issuer
					case parts[1] == "CERTDESK_OIDC_STAFF_TENANT":
						return iss.staffTenant
					case strings.HasPrefix(parts[1], config.TemplateVariablePrefix):
						return "d-" + strings.Repeat("0", 32) // the operator sets each (the worker refuses to start otherwise)
					case strings.Contains(m, ":-"):
						return parts[2] // the default, maybe empty
					}
					return strings.Repeat("x", 40) // a required value the operator supplies
				})
			}
			cfg, err := load(t, config.ModeProduction, env)
			if err != nil {
				t.Errorf("%s with issuer %s: its environment does not pass validation:\n%v", name, iss.issuer, err)
				continue
			}
			if iss.staffTenant != "" && len(svc.Command) == 1 && svc.Command[0] == "api" {
				// The common endpoint without the staff's tenant is refused,
				// naming the variable to set.
				env["CERTDESK_OIDC_STAFF_TENANT"] = ""
				if _, err := load(t, config.ModeProduction, env); err == nil || !strings.Contains(err.Error(), "CERTDESK_OIDC_STAFF_TENANT") {
					t.Errorf("%s: the common endpoint without the staff's tenant: %v", name, err)
				}
			}
			if cfg.Temporal.Address != "temporal:7233" {
				t.Errorf("%s: Temporal address %q, want the compose service", name, cfg.Temporal.Address)
			}
			if len(svc.Command) == 1 && svc.Command[0] == "worker" {
				if err := cfg.ValidateMailer(); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				for _, k := range mail.Kinds {
					if v := config.TemplateVariablePrefix + strings.ToUpper(k.Kind); svc.Environment[v] == "" {
						t.Errorf("%s: the compose file does not carry %s", name, v)
					}
				}
			}
			if len(svc.Command) == 1 && svc.Command[0] == "api" {
				for _, v := range []string{"CERTDESK_OIDC_ISSUER", "CERTDESK_OIDC_CLIENT_ID", "CERTDESK_OIDC_CLIENT_SECRET"} {
					if !strings.Contains(svc.Environment[v], ":?") {
						t.Errorf("%s: %s is not required by the compose file", name, v)
					}
				}
				for _, v := range []string{"CERTDESK_OIDC_STAFF_TENANT", "CERTDESK_OIDC_PERSONAL_TENANTS"} {
					if _, ok := svc.Environment[v]; !ok {
						t.Errorf("%s: the compose file does not carry %s", name, v)
					}
				}
			}
		}
	}
	if built != 4 {
		t.Errorf("compose builds %d certdesk services, want migrate, the Temporal setup, api and worker", built)
	}
}

// A kind's template in a language loads under the key mail looks it up
// by; a variable that names no kind (or no kind in a language) is refused,
// since it would quietly send the English template.
func TestTemplatesPerLocale(t *testing.T) {
	cfg, err := load(t, config.ModeProduction, with(good, "SENDGRID_TEMPLATE_RECOVERY_VERIFY", "d-en", "SENDGRID_TEMPLATE_RECOVERY_VERIFY_PT_BR", "d-pt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Mail.Templates[mail.LocaleTemplateKey(mail.RecoveryVerify, "pt-BR")]; got != "d-pt" {
		t.Errorf("pt-BR template %q (templates %v)", got, cfg.Mail.Templates)
	}
	for _, bad := range []string{"SENDGRID_TEMPLATE_RECOVERY_VERIFY_PTBR", "SENDGRID_TEMPLATE_RECOVERY_VERIFY_IT", "SENDGRID_TEMPLATE_NO_SUCH_KIND"} {
		if _, err := load(t, config.ModeProduction, with(good, bad, "d-x")); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
