package temporal

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"

	"github.com/certdesk/certdesk/devserver"
)

// problems is what the server's own loader says of a dynamic-config file:
// its errors, and its warnings, which include a key no setting registers
// and a value the setting refuses (the server logs those and runs on the
// default, so a misspelt key would silently change nothing).
func problems(text []byte) []error {
	lr := dynamicconfig.LoadYamlFile(text)
	return append(lr.Errors, lr.Warnings...)
}

// Every key in the file is one the server knows, with a value it accepts.
func TestDynamicConfigKeysAreTheServers(t *testing.T) {
	if ps := problems(DynamicConfig); len(ps) > 0 {
		t.Fatalf("the server's loader refuses deploy/temporal/dynamicconfig.yaml: %v", ps)
	}
	// The check catches what it is for.
	for name, text := range map[string]string{
		"misspelt key": "history.transferProcesorMaxPollRPS:\n  - value: 1000\n",
		"wrong type":   "history.transferProcessorMaxPollRPS:\n  - value: fast\n",
		"bad format":   "history.transferProcessorMaxPollRPS: 1000\n",
	} {
		if len(problems([]byte(text))) == 0 {
			t.Errorf("%s: the loader found nothing wrong in %q", name, text)
		}
	}
}

// Dev mode and a cluster run with the same settings: every value dev mode
// sets is in the file, unconstrained, with the same value.
func TestDynamicConfigHoldsDevModesSettings(t *testing.T) {
	lr := dynamicconfig.LoadYamlFile(DynamicConfig)
	for key, want := range devserver.LatencyConfig() {
		cvs, ok := lr.Map[dynamicconfig.MakeKey(key)]
		if !ok {
			t.Errorf("%s: dev mode sets %v; the file does not have it", key, want)
			continue
		}
		if len(cvs) != 1 || cvs[0].Constraints != (dynamicconfig.Constraints{}) {
			t.Errorf("%s: want one value for every namespace and task queue, have %+v", key, cvs)
			continue
		}
		if fmt.Sprint(cvs[0].Value) != fmt.Sprint(want) {
			t.Errorf("%s: the file says %v, dev mode %v", key, cvs[0].Value, want)
		}
	}
}

// The server reads the file as a cluster would (its file-based client):
// the settings' getters answer the file's values, not the defaults.
func TestDynamicConfigAsTheServerReadsIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dynamicconfig.yaml")
	if err := os.WriteFile(path, DynamicConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan any)
	defer close(done)
	client, err := dynamicconfig.NewFileBasedClient(&dynamicconfig.FileBasedClientConfig{Filepath: path, PollInterval: 10 * time.Second},
		log.NewNoopLogger(), done)
	if err != nil {
		t.Fatal(err)
	}
	col := dynamicconfig.NewCollection(client, log.NewNoopLogger())
	if got := dynamicconfig.TransferProcessorMaxPollRPS.Get(col)(); got != 1000 {
		t.Errorf("history.transferProcessorMaxPollRPS = %d, want the file's 1000 (default 20)", got)
	}
	if got := dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Get(col)("default"); got != 100 {
		t.Errorf("frontend.namespaceRPS.visibility for default = %d, want the file's 100 (default 10)", got)
	}
}
