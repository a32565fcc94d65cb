package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/workflows"
)

// The worker's variables: its HTTP address (off turns it off) and its stop
// timeout, 30 s unless set; mistakes are named.
func TestWorkerVariables(t *testing.T) {
	cfg, err := config.Load(config.ModeProduction, config.MapEnv{})
	if err != nil || cfg.WorkerHTTPAddr != "127.0.0.1:9090" || cfg.WorkerStopTimeout != 30*time.Second {
		t.Fatalf("defaults: %q %v (%v)", cfg.WorkerHTTPAddr, cfg.WorkerStopTimeout, err)
	}
	cfg, err = config.Load(config.ModeProduction, config.MapEnv{"CERTDESK_WORKER_HTTP_ADDR": "off", "CERTDESK_WORKER_STOP_TIMEOUT": "2m"})
	if err != nil || cfg.WorkerHTTPAddr != "" || cfg.WorkerStopTimeout != 2*time.Minute {
		t.Fatalf("off, 2m: %q %v (%v)", cfg.WorkerHTTPAddr, cfg.WorkerStopTimeout, err)
	}
	_, err = config.Load(config.ModeProduction, config.MapEnv{"CERTDESK_WORKER_HTTP_ADDR": "9090", "CERTDESK_WORKER_STOP_TIMEOUT": "0s"})
	for _, want := range []string{"CERTDESK_WORKER_HTTP_ADDR", "CERTDESK_WORKER_STOP_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
	}
}

// sendTakes is how long the SendGrid stand-in holds every answer.
const sendTakes = 3 * time.Second

// SIGTERM on `certdesk worker` while its emails are being sent: /readyz
// turns 503 at once, the sends finish (the stand-in answers after 3 s) and
// are recorded, the process exits 0; the next worker moves the cases on
// without sending anything again. Every email reached SendGrid exactly
// once (the stand-in counts a request when it arrives: a send cut off and
// retried would count twice).
func TestWorkerStopsGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL databases, a Temporal server and worker processes")
	}
	ctx := context.Background()
	dbURL, drop, admin, err := store.CreateDatabase(ctx, storetest.PostgresAdminURL(), "certdesk_stop_")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL not reachable: %v", err)
	}
	t.Cleanup(func() { drop(); admin.Close() })
	bin := stacktest.Binary(t)
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	srv, err := devserver.Start(ctx, devserver.Options{LogFile: filepath.Join(dir, "temporal.log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	cfg, ln, tc, err := srv.Scratch(dbURL, "stop", st)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // no API: the cases start through the client
	t.Cleanup(tc.Close)
	sg := mailtest.NewSendGrid()
	t.Cleanup(sg.Close)
	sg.Otherwise(func(mailtest.Request) mailtest.Answer {
		return mailtest.Answer{Status: http.StatusAccepted, Delay: sendTakes}
	})

	const stopTimeout = 20 * time.Second
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := workerEnvironment(cfg, dbURL, sg.URL,
		"CERTDESK_WORKER_HTTP_ADDR="+addr, "CERTDESK_WORKER_STOP_TIMEOUT="+stopTimeout.String())
	first := startWorker(t, bin, env, filepath.Join(dir, "worker-1.log"), "http://"+addr)

	const cases = 5
	ids := make([]string, cases)
	for i := range ids {
		ids[i] = certdesk.NewID()
		claim := workflows.RecoveryClaim{
			LegalName: fmt.Sprintf("Learner %d", i), ContactEmail: fmt.Sprintf("stop-%d@learners.example", i),
			NewAccountEmail: fmt.Sprintf("stop-%d@learners.example", i), Description: "I lost access to my account.",
		}
		_, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.RecoveryWorkflowID(ids[i]), TaskQueue: cfg.TaskQueue},
			workflows.Recovery, workflows.RecoveryInput{CaseID: ids[i], Claim: claim, VerifyTTL: workflows.Duration(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "every verify email at SendGrid", func() bool { return len(sg.Requests()) == cases })

	signalled := time.Now()
	if err := first.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// While it drains: alive, not ready.
	sawUnready := false
	for !sawUnready && first.Running() {
		if status, body := httpGet("http://" + addr + "/readyz"); status == http.StatusServiceUnavailable && strings.Contains(body, "stopping") {
			sawUnready = true
			if status, _ := httpGet("http://" + addr + "/healthz"); status != http.StatusOK && first.Running() {
				t.Errorf("/healthz = %d while the worker drains, want 200", status)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sawUnready {
		t.Error("/readyz never answered 503 (stopping) while the worker drained")
	}
	select {
	case <-first.Exited():
	case <-time.After(stopTimeout + 10*time.Second):
		t.Fatalf("the worker did not exit %v after SIGTERM", stopTimeout+10*time.Second)
	}
	took := time.Since(signalled)
	if err := first.Err(); err != nil {
		t.Fatalf("the worker exited with %v after SIGTERM, want status 0", err)
	}
	last := sg.Requests()[cases-1].At
	t.Logf("SIGTERM %v after the last send began; the worker exited %v after SIGTERM", signalled.Sub(last).Round(time.Millisecond), took.Round(time.Millisecond))
	if took >= stopTimeout {
		t.Errorf("the stop took %v: the sends (%v) did not finish before the stop timeout", took, sendTakes)
	}
	for _, id := range ids {
		// The activity ran to its end in the stopping worker.
		if e, err := st.EmailForStep(ctx, id, "verify"); err != nil || e.Status != store.EmailSent {
			t.Errorf("case %s: verify email %q (%v) after the stop, want %s", id, e.Status, err, store.EmailSent)
		}
	}

	second := startWorker(t, bin, env, filepath.Join(dir, "worker-2.log"), "http://"+addr)
	waitFor(t, 60*time.Second, "every case awaiting the learner", func() bool {
		for _, id := range ids {
			if c, err := st.Case(ctx, id); err != nil || c.Status != certdesk.StatusAwaitingLearner {
				return false
			}
		}
		return true
	})
	accepted := sg.Accepted()
	for _, id := range ids {
		if n := accepted[[2]string{id, "verify"}]; n != 1 {
			t.Errorf("case %s: the verify email reached SendGrid %d times, want once", id, n)
		}
	}
	if n := len(sg.Requests()); n != cases {
		t.Errorf("SendGrid got %d requests, want %d", n, cases)
	}
	if !second.Stop(stacktest.StopGrace) {
		t.Errorf("the second worker did not exit %v after SIGTERM", stacktest.StopGrace)
	} else if err := second.Err(); err != nil {
		t.Errorf("the second worker exited with %v after SIGTERM, want status 0", err)
	}
}

// workerEnvironment is `certdesk worker`'s production environment pointed
// at the test's database, Temporal and SendGrid; nothing certdesk,
// Temporal or SendGrid reads is inherited.
func workerEnvironment(cfg config.Config, dbURL, sendgrid string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, "CERTDESK_") && !strings.HasPrefix(k, "TEMPORAL_") && !strings.HasPrefix(k, "SENDGRID_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"CERTDESK_DATABASE_URL="+dbURL, "CERTDESK_PUBLIC_URL="+cfg.PublicURL, "CERTDESK_SECRET="+cfg.Secret,
		"CERTDESK_PAYLOAD_KEYS="+cfg.PayloadKeys, "CERTDESK_TASK_QUEUE="+cfg.TaskQueue,
		"TEMPORAL_ADDRESS="+cfg.Temporal.Address, "TEMPORAL_NAMESPACE="+cfg.Temporal.Namespace,
		"SENDGRID_API_KEY=SG.stop-test", "SENDGRID_BASE_URL="+sendgrid,
	)
	for _, k := range mail.Kinds {
		env = append(env, config.TemplateVariablePrefix+strings.ToUpper(k.Kind)+"=d-"+k.Kind)
	}
	return append(env, extra...)
}

// startWorker starts `certdesk worker` with its output in logPath (shown
// when the test fails) and waits until `certdesk health <base>/readyz`
// succeeds.
func startWorker(t *testing.T, bin string, env []string, logPath, base string) *stacktest.Process {
	t.Helper()
	p := stacktest.StartProcess(t, bin, []string{"worker"}, env, "", logPath)
	waitFor(t, 60*time.Second, "certdesk health "+base+"/readyz", func() bool {
		if !p.Running() {
			t.Fatalf("certdesk worker exited: %v", p.Err())
		}
		return run(context.Background(), []string{"health", base + "/readyz"}, &bytes.Buffer{}) == nil
	})
	return p
}

func httpGet(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
