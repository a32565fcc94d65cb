package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/config"
)

// A personal access token lives a year at most, unless
// CERTDESK_TOKEN_MAX_TTL (a positive Go duration) says otherwise.
func TestTokenMaxTTL(t *testing.T) {
	cfg, err := config.Load(config.ModeProduction, config.MapEnv{})
	if err != nil || cfg.TokenMaxTTL != 8760*time.Hour {
		t.Fatalf("default token max TTL = %v (%v), want 8760h", cfg.TokenMaxTTL, err)
	}
	cfg, err = config.Load(config.ModeProduction, config.MapEnv{"CERTDESK_TOKEN_MAX_TTL": "720h"})
	if err != nil || cfg.TokenMaxTTL != 720*time.Hour {
		t.Fatalf("CERTDESK_TOKEN_MAX_TTL=720h: %v (%v)", cfg.TokenMaxTTL, err)
	}
	for _, v := range []string{"0", "0s", "-1h", "forever", "90d", "1y"} {
		_, err := config.Load(config.ModeProduction, config.MapEnv{"CERTDESK_TOKEN_MAX_TTL": v})
		if err == nil || !strings.Contains(err.Error(), "CERTDESK_TOKEN_MAX_TTL") {
			t.Errorf("CERTDESK_TOKEN_MAX_TTL=%s: %v, want an error naming the variable", v, err)
		}
	}
	if !strings.Contains(config.Config{TokenMaxTTL: time.Hour}.LogValue().String(), "token_max_ttl") {
		t.Error("the configuration's log line does not show the token max TTL")
	}
}
