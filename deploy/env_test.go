package deploy_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
)

// secretPlaceholders are well-formed stand-ins for the values an operator
// keeps in the Secret, by variable: what the loader sees in a real
// deployment. A variable read from the Secret without one here fails the
// tests (add it), and so does one of these set anywhere but from a Secret.
var secretPlaceholders = sync.OnceValue(func() map[string]string {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		panic(err)
	}
	return map[string]string{
		"CERTDESK_DATABASE_URL":         "postgres://certdesk:placeholder@postgres.example.internal:5432/certdesk?sslmode=require",
		"CERTDESK_SECRET":               strings.Repeat("s", 44),
		"CERTDESK_PAYLOAD_KEYS":         codec.NewKey("k1"),
		"CERTDESK_OIDC_CLIENT_SECRET":   "placeholder-client-secret",
		"SENDGRID_API_KEY":              "SG.placeholder",
		"SENDGRID_WEBHOOK_PUBLIC_KEY":   base64.StdEncoding.EncodeToString(der),
		"SENDGRID_INBOUND_PUBLIC_KEY":   base64.StdEncoding.EncodeToString(der),
		"TEMPORAL_API_KEY":              "placeholder-temporal-api-key",
		"TEMPORAL_TLS_CLIENT_KEY_DATA":  "placeholder",
		"TEMPORAL_TLS_CLIENT_CERT_DATA": "placeholder",
	}
})

// operatorSets are the non-secret values the base leaves empty for an
// overlay to set (api and worker refuse to start without them), with a
// value such an overlay would give. SENDGRID_TEMPLATE_* are among them.
var operatorSets = map[string]string{
	"CERTDESK_PUBLIC_URL":     "https://support.example.com",
	"CERTDESK_OIDC_ISSUER":    "https://login.microsoftonline.com/0b9a5c3e-0000-4000-8000-000000000001/v2.0",
	"CERTDESK_OIDC_CLIENT_ID": "0b9a5c3e-0000-4000-8000-000000000002",
}

func operatorValue(name string) (string, bool) {
	if strings.HasPrefix(name, config.TemplateVariablePrefix) {
		return "d-" + strings.Repeat("0", 32), true
	}
	v, ok := operatorSets[name]
	return v, ok
}

// known reports whether certdesk reads a variable.
func known(name string) bool {
	return slices.Contains(config.Variables, name) || slices.Contains(config.TemporalVariables, name) ||
		strings.HasPrefix(name, config.TemplateVariablePrefix)
}

// secretValues says what a Secret's key holds.
type secretValues func(key string) (string, bool)

// placeholders fills the Secret with secretPlaceholders (its keys are the
// variables' names).
func placeholders(key string) (string, bool) { v, ok := secretPlaceholders()[key]; return v, ok }

// env is what a container's process sees, as the kubelet builds it (the
// envFrom sources in order, then env, which wins), each variable with
// where it came from.
type env struct {
	values  config.MapEnv
	sources map[string]string
}

// envOf builds a container's environment; the Secret's values come from
// values. It reports references the cluster could not resolve and
// variables certdesk does not read.
func (b *base) envOf(c corev1.Container, values secretValues) (env, []error) {
	e := env{values: config.MapEnv{}, sources: map[string]string{}}
	var errs []error
	set := func(name, value, source string) {
		if !known(name) {
			errs = append(errs, fmt.Errorf("container %s: %s (from %s) is not a variable certdesk reads", c.Name, name, source))
		}
		e.values[name], e.sources[name] = value, source
	}
	secretKey := func(name, key string) (string, bool) {
		if b.secret == nil || name != b.secret.Name {
			errs = append(errs, fmt.Errorf("container %s: reads Secret %q; %s documents %q", c.Name, name, exampleSecret, b.secretName()))
			return "", false
		}
		_, inData := b.secret.Data[key]
		_, inString := b.secret.StringData[key]
		if !inData && !inString {
			errs = append(errs, fmt.Errorf("container %s: reads key %s of Secret %s, which %s does not show", c.Name, key, name, exampleSecret))
			return "", false
		}
		v, ok := values(key)
		if !ok {
			errs = append(errs, fmt.Errorf("container %s: the tests have no placeholder for Secret key %s (add one to secretPlaceholders)", c.Name, key))
		}
		return v, ok
	}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			cm := b.configMap(from.ConfigMapRef.Name)
			if cm == nil {
				if from.ConfigMapRef.Optional == nil || !*from.ConfigMapRef.Optional {
					errs = append(errs, fmt.Errorf("container %s: envFrom ConfigMap %q, which the base does not have", c.Name, from.ConfigMapRef.Name))
				}
				continue
			}
			for k, v := range cm.Data {
				set(from.Prefix+k, v, "ConfigMap "+cm.Name)
			}
		case from.SecretRef != nil:
			if b.secret == nil || from.SecretRef.Name != b.secret.Name {
				errs = append(errs, fmt.Errorf("container %s: envFrom Secret %q; %s documents %q", c.Name, from.SecretRef.Name, exampleSecret, b.secretName()))
				continue
			}
			for _, k := range b.secretKeys() {
				if v, ok := secretKey(from.SecretRef.Name, k); ok {
					set(from.Prefix+k, v, "Secret "+b.secret.Name)
				}
			}
		}
	}
	for _, v := range c.Env {
		switch {
		case v.ValueFrom == nil:
			set(v.Name, v.Value, "env")
		case v.ValueFrom.SecretKeyRef != nil:
			ref := v.ValueFrom.SecretKeyRef
			if val, ok := secretKey(ref.Name, ref.Key); ok {
				set(v.Name, val, "Secret "+ref.Name)
			}
		case v.ValueFrom.ConfigMapKeyRef != nil:
			ref := v.ValueFrom.ConfigMapKeyRef
			cm := b.configMap(ref.Name)
			val, ok := "", false
			if cm != nil {
				val, ok = cm.Data[ref.Key]
			}
			if !ok {
				errs = append(errs, fmt.Errorf("container %s: %s reads key %s of ConfigMap %s, which the base does not have", c.Name, v.Name, ref.Key, ref.Name))
				continue
			}
			set(v.Name, val, "ConfigMap "+ref.Name)
		default:
			errs = append(errs, fmt.Errorf("container %s: %s comes from a field or resource reference these tests do not check", c.Name, v.Name))
		}
	}
	// A secret is never written in the manifests.
	for name, source := range e.sources {
		if _, secret := secretPlaceholders()[name]; secret && !strings.HasPrefix(source, "Secret ") {
			errs = append(errs, fmt.Errorf("container %s: %s is a secret, but comes from %s: reference it from the Secret", c.Name, name, source))
		}
	}
	return e, errs
}

// filled is the environment once an overlay has set what the base leaves
// empty.
func (e env) filled() config.MapEnv {
	out := config.MapEnv{}
	for k, v := range e.values {
		if p, ok := operatorValue(k); ok && strings.TrimSpace(v) == "" {
			v = p
		}
		out[k] = v
	}
	return out
}

func (b *base) configMap(name string) *corev1.ConfigMap {
	for _, cm := range b.configMaps {
		if cm.Name == name {
			return cm
		}
	}
	return nil
}

func (b *base) secretName() string {
	if b.secret == nil {
		return ""
	}
	return b.secret.Name
}

func (b *base) secretKeys() []string {
	var keys []string
	for k := range b.secret.Data {
		keys = append(keys, k)
	}
	for k := range b.secret.StringData {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// exampleValues fills the Secret with secret.example.yaml's own values.
func (b *base) exampleValues(key string) (string, bool) {
	if v, ok := b.secret.StringData[key]; ok {
		return v, true
	}
	v, ok := b.secret.Data[key]
	return string(v), ok
}

// load runs certdesk's configuration loader over an environment as the
// production commands do: Load then Validate (databaseOnly for migrate,
// which needs nothing else), and ValidateMailer for the worker.
func load(role string, e config.MapEnv) (config.Config, error) {
	cfg, err := config.Load(config.ModeProduction, e)
	if err != nil {
		return cfg, err
	}
	switch role {
	case "temporal":
		// temporal setup needs Temporal's address and namespace only.
		if cfg.Temporal.Address == "" {
			return cfg, fmt.Errorf("TEMPORAL_ADDRESS is required")
		}
		return cfg, nil
	case "migrate":
		if cfg.DatabaseURL == "" {
			return cfg, fmt.Errorf("CERTDESK_DATABASE_URL is required")
		}
		return cfg, nil
	case "worker":
		if err := cfg.Validate(); err != nil {
			return cfg, err
		}
		return cfg, cfg.ValidateMailer()
	}
	return cfg, cfg.Validate()
}
