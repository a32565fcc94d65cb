package stacktest

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Binary builds cmd/certdesk into the test's temporary folder, for the
// tests that run certdesk's commands as processes, as an operator would.
func Binary(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "certdesk")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/certdesk")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build certdesk: %v\n%s", err, out)
	}
	return bin
}
