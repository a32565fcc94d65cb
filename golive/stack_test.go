package golive_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/stacktest"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/oidctest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// The deployment's settings that the test's people and checks refer to.
const (
	staffTenant = "5b1c0d6e-2f3a-4e8b-9c7d-0a1b2c3d4e5f" // the program's own Entra ID tenant
	otherTenant = "c4e1a7b2-9d3f-4a6e-8b5c-1f2e3d4c5b6a" // some other organization's
	agentRole   = "certdesk.agent"
	superRole   = "certdesk.supervisor"
	mailFrom    = "support@certs.example"
	coolingOff  = 2 * time.Second // CERTDESK_COOLING_OFF, shortened for the test
)

// stack is a production-shaped certdesk: a PostgreSQL database of its own,
// a Temporal server used as a plain cluster (its address only), a local
// OpenID issuer, a SendGrid stand-in, and the certdesk binary, whose
// commands and processes get the environment the README's go-live steps
// set up.
type stack struct {
	t        *testing.T
	dir      string
	bin      string
	env      []string
	base     string // CERTDESK_PUBLIC_URL
	issuer   *oidctest.Issuer
	sendgrid *sendGrid
	temporal client.Client // the operator's client (the Temporal CLI's part)
}

// newStack builds everything but certdesk's own processes.
func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	s := &stack{t: t, dir: t.TempDir()}

	dbURL, drop, admin, err := store.CreateDatabase(ctx, storetest.PostgresAdminURL(), "certdesk_golive_")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	t.Cleanup(func() { drop(); admin.Close() })

	// Built first: the first build of the Temporal server takes minutes.
	s.bin = stacktest.Binary(t)

	srv, err := devserver.Start(ctx, devserver.Options{LogFile: filepath.Join(s.dir, "temporal.log")})
	if err != nil {
		t.Fatalf("Temporal server: %v", err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	if s.temporal, err = client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.temporal.Close)

	s.issuer = oidctest.New(t)
	apiKey := "SG.golive-" + strings.ToLower(certdesk.NewID())
	s.sendgrid = newSendGrid(t, apiKey)

	addr := freeAddr(t)
	s.base = "http://" + addr
	// Step 1 and 2 of the README's go-live: the database, Temporal, the
	// secrets (the payload key from `certdesk keys new`), the public URL;
	// step 3, Entra ID's multi-tenant endpoint with app roles and the
	// staff tenant; step 4, SendGrid with a template per message kind.
	// Nothing certdesk, Temporal or SendGrid reads is inherited.
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "CERTDESK_") && !strings.HasPrefix(k, "TEMPORAL_") && !strings.HasPrefix(k, "SENDGRID_") {
			s.env = append(s.env, kv)
		}
	}
	s.env = append(s.env,
		"CERTDESK_DATABASE_URL="+dbURL,
		"TEMPORAL_ADDRESS="+srv.HostPort(),
		"TEMPORAL_NAMESPACE="+devserver.Namespace,
	)
	payloadKey := strings.TrimSpace(s.certdesk("keys", "new"))
	s.env = append(s.env,
		"CERTDESK_SECRET="+secret(),
		"CERTDESK_PAYLOAD_KEYS="+payloadKey,
		"CERTDESK_PUBLIC_URL="+s.base,
		"CERTDESK_HTTP_ADDR="+addr,
		"CERTDESK_TASK_QUEUE=golive-"+strings.ToLower(certdesk.NewID()),
		"CERTDESK_OIDC_ISSUER="+s.issuer.Common(),
		"CERTDESK_OIDC_CLIENT_ID="+oidctest.ClientID,
		"CERTDESK_OIDC_CLIENT_SECRET="+oidctest.ClientSecret,
		"CERTDESK_OIDC_TRUST_EMAIL=true", // Entra ID sends no email_verified
		"CERTDESK_OIDC_AGENT_ROLE="+agentRole,
		"CERTDESK_OIDC_SUPERVISOR_ROLE="+superRole,
		"CERTDESK_OIDC_STAFF_TENANT="+staffTenant,
		"CERTDESK_MAIL_FROM="+mailFrom,
		"SENDGRID_API_KEY="+apiKey,
		"CERTDESK_WORKER_HTTP_ADDR=127.0.0.1:0",
		"SENDGRID_BASE_URL="+s.sendgrid.URL(),
		"SENDGRID_WEBHOOK_PUBLIC_KEY="+s.sendgrid.WebhookKey,
		"CERTDESK_COOLING_OFF="+coolingOff.String(),
	)
	for _, k := range mail.Kinds {
		s.env = append(s.env, config.TemplateVariablePrefix+strings.ToUpper(k.Kind)+"="+templateID(k.Kind))
	}
	// Registered before the processes start, so it runs after they stopped.
	return s
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// secret is what `openssl rand -base64 32` prints.
func secret() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// certdesk runs a command of the binary to its end and returns its output;
// a non-zero exit status fails the test.
func (s *stack) certdesk(args ...string) string {
	s.t.Helper()
	out, err := s.certdeskStatus(args...)
	if err != nil {
		s.t.Fatalf("certdesk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (s *stack) certdeskStatus(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.bin, args...)
	cmd.Env, cmd.Dir = s.env, s.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// start starts a long-running command (api, worker) with its output in a
// log file (printed when the test fails); it is stopped as a deployment
// stops it (SIGTERM) when the test ends.
func (s *stack) start(command string) *stacktest.Process {
	s.t.Helper()
	return stacktest.StartProcess(s.t, s.bin, []string{command}, s.env, s.dir, filepath.Join(s.dir, command+".log"))
}

// startAPI starts `certdesk api` and waits until /readyz says the database
// and Temporal answer.
func (s *stack) startAPI() {
	s.t.Helper()
	api := s.start("api")
	eventually(s.t, "GET /readyz answers 200", func() bool {
		if !api.Running() {
			s.t.Fatalf("certdesk api exited: %v", api.Err())
		}
		resp, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// eventually polls ok until it holds, for up to a minute (a loaded CI
// machine is slow; nothing here should take more than seconds).
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func templateID(kind string) string { return "d-golive-" + kind }

func kindOf(template string) string {
	if k, ok := strings.CutPrefix(template, "d-golive-"); ok && mail.Known(k) {
		return k
	}
	return fmt.Sprintf("unknown template %q", template)
}
