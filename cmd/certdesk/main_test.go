package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certdesk/certdesk/stacktest"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type devProcess struct {
	cmd    *exec.Cmd
	base   string
	banner string
	done   chan error
}

// startDev runs `certdesk dev` and waits for its banner and /readyz.
func startDev(t *testing.T, bin, dataDir string, httpPort, temporalPort int) *devProcess {
	t.Helper()
	cmd := exec.Command(bin, "dev", "--data-dir", dataDir,
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--temporal-port", fmt.Sprint(temporalPort),
		"--ui-port", fmt.Sprint(freePort(t))) // not the default 8233, which another dev may hold
	cmd.Env = append(os.Environ(), "CERTDESK_DATABASE_URL=", "CERTDESK_PUBLIC_URL=", "CERTDESK_SECRET=")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &devProcess{cmd: cmd, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), done: make(chan error, 1)}
	bannerc := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if !sent && strings.Contains(sc.Text(), "Press Ctrl-C") {
				bannerc <- b.String()
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() { p.done <- cmd.Wait() }()
	select {
	case p.banner = <-bannerc:
	case err := <-p.done:
		t.Fatalf("certdesk dev exited: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("certdesk dev printed no banner in 60s\n%s", stderr.String())
	}
	resp, err := http.Get(p.base + "/readyz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("readyz after the banner: %v %v", resp, err)
	}
	resp.Body.Close()
	return p
}

func (p *devProcess) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("certdesk dev after SIGTERM: %v (want a clean exit)", err)
		}
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatal("certdesk dev did not stop within 30s of SIGTERM")
	}
}

func post(t *testing.T, url, token, body string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), "POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode >= 300 {
		t.Fatalf("POST %s = %d %v", url, resp.StatusCode, m)
	}
	return m
}

func getJSON(t *testing.T, url, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return m
}

// The README's first command, as a user runs it: it starts with no setup,
// seeds the demo world, prints where everything is, stops cleanly on
// SIGTERM, and started again on the same data dir carries on.
func TestDevStartsStopsAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs certdesk dev")
	}
	bin := stacktest.Binary(t)
	dir := filepath.Join(t.TempDir(), "data")
	httpPort, temporalPort := freePort(t), freePort(t)

	p := startDev(t, bin, dir, httpPort, temporalPort)
	for _, want := range []string{"demo world seeded", "/dev/login", "/console", "/portal", "/dev/mail", fmt.Sprintf("127.0.0.1:%d", temporalPort)} {
		if !strings.Contains(p.banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, p.banner)
		}
	}
	token := post(t, p.base+"/dev/login", "", `{"email":"ben.okafor@contoso.example"}`)["token"].(string)
	lp := getJSON(t, p.base+"/api/v1/me", token)["learning_profile"].(map[string]any)["id"].(string)
	post(t, p.base+"/api/v1/learning-profiles/"+lp+"/accounts", token, `{"email":"ben.okafor@hotmail.example","kind":"personal"}`)
	p.stop(t)
	for _, f := range []string{"temporal.db", "certdesk.db", "secret"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("data dir lacks %s: %v", f, err)
		}
	}

	p = startDev(t, bin, dir, httpPort, temporalPort)
	defer p.stop(t)
	if !strings.Contains(p.banner, "resumed") {
		t.Errorf("second start does not say it resumed:\n%s", p.banner)
	}
	// The session and the added account survived the restart.
	me := getJSON(t, p.base+"/api/v1/me", token)
	if n := len(me["accounts"].([]any)); n != 2 {
		t.Fatalf("after restart Ben has %d accounts, want 2: %v", n, me)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "certdesk ") {
		t.Fatalf("version printed %q", out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, io.Discard); err == nil || !strings.Contains(err.Error(), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
}

// Production commands refuse a bad configuration with every problem named.
func TestProductionRefusesBadConfig(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	t.Setenv("CERTDESK_SECRET", "")
	err := run(context.Background(), []string{"api"}, io.Discard)
	if err == nil {
		t.Fatal("api started without configuration")
	}
	for _, want := range []string{"CERTDESK_DATABASE_URL", "CERTDESK_PUBLIC_URL", "CERTDESK_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s: %v", want, err)
		}
	}
}

// migrate, seed and token need only the database, and say so when it is missing.
func TestStoreCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "certdesk.db")
	t.Setenv("CERTDESK_DATABASE_URL", db)
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	var out bytes.Buffer
	for _, cmd := range [][]string{{"migrate"}, {"migrate"}, {"seed"}, {"token", "create", "--agent", "alice.agent@certdesk.example", "--ttl", "30d"}} {
		out.Reset()
		if err := run(context.Background(), cmd, &out); err != nil {
			t.Fatalf("%v: %v", cmd, err)
		}
	}
	if !strings.HasPrefix(out.String(), "cdp_") || !strings.Contains(out.String(), "shown once") {
		t.Fatalf("token create printed %q", out.String())
	}
	token := strings.Fields(out.String())[0]
	out.Reset()
	if err := run(context.Background(), []string{"token", "list"}, &out); err != nil || !strings.Contains(out.String(), "api") || strings.Contains(out.String(), token) {
		t.Fatalf("token list: %v %q (must not show the token)", err, out.String())
	}
	t.Setenv("CERTDESK_DATABASE_URL", "")
	if err := run(context.Background(), []string{"migrate"}, io.Discard); err == nil || !strings.Contains(err.Error(), "CERTDESK_DATABASE_URL") {
		t.Fatalf("migrate without a database: %v", err)
	}
}
