package config_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/config"
)

// Worker versioning is off unless asked for; on, the deployment is the task
// queue's and the build id this binary's unless set; mistakes are named.
func TestWorkerVersioningSettings(t *testing.T) {
	cfg, err := load(t, config.ModeProduction, good)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WorkerVersioning || cfg.WorkerBuildID != "" || cfg.WorkerDeployment != "certdesk" {
		t.Fatalf("defaults: versioning %v, deployment %q, build id %q", cfg.WorkerVersioning, cfg.WorkerDeployment, cfg.WorkerBuildID)
	}

	cfg, err = load(t, config.ModeProduction, with(good, "CERTDESK_WORKER_VERSIONING", "true", "CERTDESK_TASK_QUEUE", "certdesk-eu"))
	if err != nil {
		t.Fatal(err)
	}
	own, err := config.DefaultBuildID()
	if err != nil || own == "" {
		t.Fatalf("this binary's build id: %q (%v)", own, err)
	}
	if !cfg.WorkerVersioning || cfg.WorkerDeployment != "certdesk-eu" || cfg.WorkerBuildID != own {
		t.Fatalf("on: versioning %v, deployment %q, build id %q (want %q)", cfg.WorkerVersioning, cfg.WorkerDeployment, cfg.WorkerBuildID, own)
	}

	cfg, err = load(t, config.ModeProduction, with(good, "CERTDESK_WORKER_VERSIONING", "1",
		"CERTDESK_WORKER_DEPLOYMENT", "certdesk-worker", "CERTDESK_WORKER_BUILD_ID", "2026.03.01-7"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.WorkerDeployment != "certdesk-worker" || cfg.WorkerBuildID != "2026.03.01-7" {
		t.Fatalf("set: deployment %q, build id %q", cfg.WorkerDeployment, cfg.WorkerBuildID)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", cfg)
	for _, shown := range []string{`"worker_versioning":true`, `"worker_deployment":"certdesk-worker"`, `"worker_build_id":"2026.03.01-7"`} {
		if !strings.Contains(buf.String(), shown) {
			t.Errorf("log line lacks %s: %s", shown, buf.String())
		}
	}

	mistakes := []struct {
		name string
		env  config.MapEnv
		want []string
	}{
		{"not a bool", with(good, "CERTDESK_WORKER_VERSIONING", "yes please"), []string{"CERTDESK_WORKER_VERSIONING", "not true or false"}},
		{"a dot in the deployment", with(good, "CERTDESK_WORKER_VERSIONING", "true", "CERTDESK_WORKER_DEPLOYMENT", "certdesk.eu"), []string{"CERTDESK_WORKER_DEPLOYMENT", ". or :"}},
		{"a task queue that cannot name a deployment", with(good, "CERTDESK_WORKER_VERSIONING", "true", "CERTDESK_TASK_QUEUE", "certdesk:eu"), []string{"CERTDESK_WORKER_DEPLOYMENT", "set CERTDESK_WORKER_DEPLOYMENT"}},
		{"a reserved build id", with(good, "CERTDESK_WORKER_VERSIONING", "true", "CERTDESK_WORKER_BUILD_ID", "__unversioned__"), []string{"CERTDESK_WORKER_BUILD_ID", "reserves"}},
		{"a build id with a space", with(good, "CERTDESK_WORKER_BUILD_ID", "v1 final"), []string{"CERTDESK_WORKER_BUILD_ID", "white space"}},
		{"a build id too long", with(good, "CERTDESK_WORKER_VERSIONING", "true", "CERTDESK_WORKER_BUILD_ID", strings.Repeat("b", 481)), []string{"CERTDESK_WORKER_BUILD_ID", "at most 480"}},
	}
	for _, tc := range mistakes {
		_, err := load(t, config.ModeProduction, tc.env)
		if err == nil {
			t.Errorf("%s: accepted", tc.name)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", tc.name, err, w)
			}
		}
	}
	// Off, a task queue with a dot is fine: no deployment is named after it.
	if _, err := load(t, config.ModeProduction, with(good, "CERTDESK_TASK_QUEUE", "certdesk.eu")); err != nil {
		t.Errorf("versioning off, task queue with a dot: %v", err)
	}
}
