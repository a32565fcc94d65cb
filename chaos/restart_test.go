package chaos

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/worker"
)

// In dev mode (the embedded Temporal server on its SQLite file, the store
// on SQLite, captured mail), real certdesk cases wait — Ben's connect case
// for his personal account, Chen's merge for an agent, Dara's recovery for
// her verification click — while the Temporal server stops and starts
// again. The worker and the API keep running, as they would while a
// Temporal cluster restarts. Afterwards every case resumes when signalled or
// decided, and ends.
func TestWaitingCasesResumeAfterATemporalRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Temporal server twice")
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	port := freePort(t)
	startTemporal := func() *devserver.Server {
		t.Helper()
		srv, err := devserver.Start(ctx, devserver.Options{DatabaseFile: filepath.Join(dir, "temporal.db"), Port: port,
			LogFile: filepath.Join(dir, "temporal.log")})
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}
	srv := startTemporal()

	cfg, err := config.Load(config.ModeDev, config.MapEnv{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Dev(dir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.HTTPAddr, cfg.PublicURL = ln.Addr().String(), "http://"+ln.Addr().String()
	cfg.Temporal.Address, cfg.Temporal.Namespace = srv.HostPort(), devserver.Namespace
	cfg.CoolingOff = 2 * time.Second
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	cd, err := codec.Parse(cfg.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(cd.UseKeyStore(st).Client(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace,
		Logger: sdklog.NewStructuredLogger(slog.Default())}))
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	w, err := worker.Start(ctx, tc, cfg, &activities.Activities{Store: st, Mailer: activities.CaptureMailer(st), Links: activities.Links{BaseURL: cfg.PublicURL}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	handler := server.New(server.Deps{Config: cfg, Store: st, Temporal: tc})
	hs := &http.Server{Handler: handler}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	c := &apiClient{base: cfg.PublicURL, http: &http.Client{Timeout: 30 * time.Second}, poll: 100 * time.Millisecond}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	login := func(email string) string {
		t.Helper()
		tok, err := c.login(ctx, email)
		must(err)
		return tok
	}
	alice := login("alice.agent@certdesk.example")

	// Three cases wait, each for someone else.
	ben := login("ben.okafor@contoso.example")
	var connect caseView
	_, err = c.expect(ctx, "POST", "/api/v1/connect-requests", ben, nil, &connect, http.StatusAccepted)
	must(err)
	_, err = c.awaitStatus(ctx, ben, connect.ID, certdesk.StatusAwaitingLearner)
	must(err)
	chen := login("chen.wei@outlook.example")
	var merge caseView
	_, err = c.expect(ctx, "POST", "/api/v1/merge-requests", chen,
		map[string]any{"profile_ids": []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}}, &merge, http.StatusAccepted)
	must(err)
	_, err = c.awaitStatus(ctx, alice, merge.ID, certdesk.StatusAwaitingAgent)
	must(err)
	_, err = c.expect(ctx, "POST", "/api/v1/recovery-requests", "", map[string]string{
		"legal_name": "Dara Murphy", "contact_email": "dara.m@proton.example", "mcid": "100005",
		"previous_email": "dara.murphy@outlook.example", "new_account_email": "dara.m@proton.example",
		"description": "My old Outlook account was closed.",
	}, nil, http.StatusAccepted)
	must(err)
	verify := devMail(ctx, t, c, "dara.m@proton.example", mail.RecoveryVerify)
	_, err = c.awaitStatus(ctx, alice, verify.CaseID, certdesk.StatusAwaitingLearner)
	must(err)

	// Temporal stops and starts again on the same file and port.
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop the Temporal server: %v", err)
	}
	srv = startTemporal()
	defer func() { _ = srv.Stop() }()
	restarted := time.Now()

	// Each case resumes: Ben adds his account, Alice decides the merge,
	// Dara confirms her address and Alice approves the recovery.
	_, err = c.expect(ctx, "POST", "/api/v1/learning-profiles/"+store.DemoID("lp:ben")+"/accounts", ben,
		map[string]string{"email": "ben.okafor@hotmail.example", "kind": "personal"}, nil, http.StatusCreated)
	must(err)
	must(c.decide(ctx, alice, merge.ID, map[string]string{"decision": "approve", "note": "same person"}))
	must(c.click(ctx, verify.Link, nil))
	_, err = c.awaitStatus(ctx, alice, verify.CaseID, certdesk.StatusAwaitingAgent)
	must(err)
	must(c.decide(ctx, alice, verify.CaseID, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005")}))

	for _, want := range []struct {
		id, what   string
		resolution string
	}{
		{connect.ID, "Ben's connect case", certdesk.ConnectConnected},
		{merge.ID, "Chen's merge case", "merged"},
		{verify.CaseID, "Dara's recovery case", "recovered"},
	} {
		cv, err := c.awaitEnd(ctx, alice, want.id)
		must(err)
		if cv.Status != certdesk.StatusCompleted || cv.Resolution != want.resolution {
			t.Errorf("%s ended %s/%s, want completed/%s", want.what, cv.Status, cv.Resolution, want.resolution)
		}
	}
	t.Logf("after the restart, the three cases resumed and ended in %v (with a %v cooling-off)", time.Since(restarted).Round(time.Millisecond), cfg.CoolingOff)
}

// devMail waits for a captured message and returns its case and link.
func devMail(ctx context.Context, t *testing.T, c *apiClient, to, kind string) sent {
	t.Helper()
	for {
		var list struct {
			Items []struct {
				Kind   string      `json:"kind"`
				CaseID string      `json:"case_id"`
				Step   string      `json:"step"`
				Links  []mail.Link `json:"links"`
			}
		}
		_, err := c.expect(ctx, "GET", "/api/v1/dev/mail?to="+url.QueryEscape(to), "", nil, &list, http.StatusOK)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list.Items {
			if m.Kind == kind && len(m.Links) > 0 {
				return sent{CaseID: m.CaseID, Step: m.Step, Kind: m.Kind, To: to, Link: m.Links[0].URL}
			}
		}
		if err := c.pause(ctx); err != nil {
			t.Fatalf("no %s mail to %s: %v", kind, to, err)
		}
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
