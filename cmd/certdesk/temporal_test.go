package main

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
)

// Temporal's own variables are read as the Temporal CLI reads them.
func TestTemporalVariablesReadAsTheCLIReadsThem(t *testing.T) {
	env := config.MapEnv{
		"CERTDESK_DATABASE_URL": "postgres://certdesk:hunter2@db.internal:5432/certdesk",
		"CERTDESK_PUBLIC_URL":   "https://support.example.com/",
		"CERTDESK_SECRET":       strings.Repeat("k", 40),
		"CERTDESK_PAYLOAD_KEYS": codec.NewKey("k1"),
		"TEMPORAL_ADDRESS":      "acme.a1b2c.tmprl.cloud:7233",
		"TEMPORAL_NAMESPACE":    "acme.a1b2c",
		"TEMPORAL_API_KEY":      "tmprl-secret-key",
	}
	cfg, err := config.Load(config.ModeProduction, env)
	if err != nil {
		t.Fatal(err)
	}
	opts, _, err := temporalClientOptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if opts.HostPort != "acme.a1b2c.tmprl.cloud:7233" || opts.Namespace != "acme.a1b2c" {
		t.Errorf("client options %s / %s", opts.HostPort, opts.Namespace)
	}
	if opts.Credentials == nil || opts.ConnectionOptions.TLS == nil {
		t.Error("an API key must bring credentials and TLS, as in the Temporal CLI")
	}
	if opts.DataConverter == nil || opts.FailureConverter == nil {
		t.Error("the client does not encode payloads and failures with the codec")
	}
	delete(env, "TEMPORAL_ADDRESS")
	delete(env, "TEMPORAL_NAMESPACE")
	def, _ := config.Load(config.ModeProduction, env)
	if def.Temporal.Address != "127.0.0.1:7233" || def.Temporal.Namespace != "default" {
		t.Errorf("defaults %s / %s", def.Temporal.Address, def.Temporal.Namespace)
	}
}
