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
	"net/http/cookiejar"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/codec"
)

// inProcessDev runs `certdesk dev` in this process with these extra flags,
// on free ports, and returns its banner, its base URL and a stop function
// that waits for a clean exit.
func inProcessDev(t *testing.T, extra ...string) (banner, base string, stop func()) {
	t.Helper()
	t.Setenv("CERTDESK_DATABASE_URL", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	t.Setenv("CERTDESK_SECRET", "")
	t.Setenv("CERTDESK_TEMPORAL_UI_URL", "")
	httpPort := freePort(t)
	base = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	args := append([]string{"--data-dir", filepath.Join(t.TempDir(), "data"),
		"--http", fmt.Sprintf("127.0.0.1:%d", httpPort), "--temporal-port", fmt.Sprint(freePort(t))}, extra...)
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := runDev(ctx, args, pw)
		pw.Close()
		done <- err
	}()
	bannerc := make(chan string, 1)
	go func() {
		var b strings.Builder
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			b.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "Press Ctrl-C") {
				bannerc <- b.String()
				break
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	select {
	case banner = <-bannerc:
	case err := <-done:
		cancel()
		t.Fatalf("certdesk dev %v ended before its banner: %v", extra, err)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("certdesk dev %v printed no banner in 60s", extra)
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("certdesk dev stopped with %v, want a clean exit", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("certdesk dev did not stop within 30s")
		}
	}
	t.Cleanup(stop)
	return banner, base, stop
}

// call sends a request and decodes a JSON answer into out (when not nil).
func call(t *testing.T, c *http.Client, method, url string, header http.Header, body string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s = %d, not JSON (%v): %.300s", method, url, resp.StatusCode, err, b)
		}
	}
	return resp
}

// payload is a Temporal payload as JSON carries it.
type payload struct {
	Metadata map[string][]byte `json:"metadata"`
	Data     []byte            `json:"data"`
}

// openCase has Ben, a demo learner, open a connect case, and signs Alice,
// a demo agent, in as a browser does (a session cookie).
func openCase(t *testing.T, base string) (caseID string, agent *http.Client) {
	t.Helper()
	asJSON := http.Header{"Content-Type": {"application/json"}}
	var ben struct{ Token string }
	call(t, http.DefaultClient, "POST", base+"/dev/login", asJSON, `{"email":"ben.okafor@contoso.example"}`, &ben)
	var opened struct{ ID string }
	if r := call(t, http.DefaultClient, "POST", base+"/api/v1/connect-requests", http.Header{"Authorization": {"Bearer " + ben.Token}}, "", &opened); r.StatusCode >= 300 || opened.ID == "" {
		t.Fatalf("connect request = %d %+v", r.StatusCode, opened)
	}
	jar, _ := cookiejar.New(nil)
	agent = &http.Client{Jar: jar}
	if r := call(t, agent, "POST", base+"/dev/login", asJSON, `{"email":"alice.agent@certdesk.example"}`, &struct{}{}); r.StatusCode != 200 {
		t.Fatalf("agent sign-in = %d", r.StatusCode)
	}
	return opened.ID, agent
}

// A newcomer runs `certdesk dev`: the banner names the Temporal Web UI; the
// UI shows the workflow of a case just opened, and the payloads of its
// history, sent from the UI's origin to the codec endpoint its settings
// name with an agent's session cookie (as the browser does), come back
// decoded; without a sign-in they stay encrypted. The case page links to
// the workflow in this UI. Stopping dev stops the UI.
func TestDevServesTheTemporalWebUI(t *testing.T) {
	uiPort := freePort(t)
	banner, base, stop := inProcessDev(t, "--ui-port", fmt.Sprint(uiPort))
	ui := fmt.Sprintf("http://127.0.0.1:%d", uiPort)
	if want := "Temporal Web UI           " + ui + "/namespaces/default/workflows"; !strings.Contains(banner, want) {
		t.Errorf("banner lacks %q:\n%s", want, banner)
	}

	plain := http.DefaultClient
	var settings struct{ Codec struct{ Endpoint string } }
	if r := call(t, plain, "GET", ui+"/api/v1/settings", nil, "", &settings); r.StatusCode != 200 {
		t.Fatalf("UI settings = %d", r.StatusCode)
	}
	if settings.Codec.Endpoint != base+"/codec" {
		t.Fatalf("the UI's codec endpoint = %q, want %s/codec", settings.Codec.Endpoint, base)
	}

	caseID, browser := openCase(t, base)
	var cs struct {
		WorkflowID string `json:"workflow_id"`
		RunID      string `json:"run_id"`
	}
	call(t, browser, "GET", base+"/api/v1/cases/"+caseID, nil, "", &cs)
	if cs.WorkflowID == "" {
		t.Fatalf("the agent sees no workflow id on case %s", caseID)
	}

	// The UI lists the workflow, from the real server.
	var list struct {
		Executions []struct {
			Execution struct{ WorkflowID string } `json:"execution"`
		} `json:"executions"`
	}
	if r := call(t, plain, "GET", ui+"/api/v1/namespaces/default/workflows", nil, "", &list); r.StatusCode != 200 {
		t.Fatalf("UI workflow list = %d", r.StatusCode)
	}
	listed := false
	for _, e := range list.Executions {
		listed = listed || e.Execution.WorkflowID == cs.WorkflowID
	}
	if !listed {
		t.Errorf("the UI's list lacks the case's workflow %s: %+v", cs.WorkflowID, list)
	}

	// The history the UI shows: its first event's input, encrypted.
	var history struct {
		History struct {
			Events []struct {
				Attrs *struct {
					Input struct{ Payloads []json.RawMessage } `json:"input"`
				} `json:"workflowExecutionStartedEventAttributes"`
			} `json:"events"`
		} `json:"history"`
	}
	call(t, plain, "GET", ui+"/api/v1/namespaces/default/workflows/"+cs.WorkflowID+"/history", nil, "", &history)
	if len(history.History.Events) == 0 || history.History.Events[0].Attrs == nil || len(history.History.Events[0].Attrs.Input.Payloads) == 0 {
		t.Fatalf("the UI's history of %s has no started event with input: %+v", cs.WorkflowID, history)
	}
	input := history.History.Events[0].Attrs.Input.Payloads
	var shown payload
	if err := json.Unmarshal(input[0], &shown); err != nil || string(shown.Metadata["encoding"]) != codec.Encoding || bytes.Contains(shown.Data, []byte(caseID)) {
		t.Fatalf("the history's input is not encrypted (%v): %s", err, input[0])
	}
	payloads, _ := json.Marshal(map[string]any{"payloads": input})

	// What the browser sends: a preflight, then the POST with the cookie.
	fromUI := http.Header{"Origin": {ui}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type,x-namespace"}}
	r := call(t, browser, "OPTIONS", settings.Codec.Endpoint+"/decode", fromUI, "", nil)
	if r.Header.Get("Access-Control-Allow-Origin") != ui || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight from the UI = %d, allow-origin %q, allow-credentials %q", r.StatusCode,
			r.Header.Get("Access-Control-Allow-Origin"), r.Header.Get("Access-Control-Allow-Credentials"))
	}
	post := http.Header{"Origin": {ui}, "Content-Type": {"application/json"}, "X-Namespace": {"default"}}
	var decoded struct{ Payloads []payload }
	r = call(t, browser, "POST", settings.Codec.Endpoint+"/decode?preserveStorageRefs=true", post, string(payloads), &decoded)
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != ui || len(decoded.Payloads) == 0 {
		t.Fatalf("decode from the UI = %d (allow-origin %q): %+v", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"), decoded)
	}
	if got := decoded.Payloads[0]; string(got.Metadata["encoding"]) != "json/plain" || !bytes.Contains(got.Data, []byte(caseID)) {
		t.Errorf("decoded input = %s %s, want the case's JSON naming %s", got.Metadata["encoding"], got.Data, caseID)
	}
	if r := call(t, plain, "POST", settings.Codec.Endpoint+"/decode", post, string(payloads), nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("decode from the UI without a sign-in = %d, want 401", r.StatusCode)
	}

	// The case page's link opens this workflow in this UI.
	resp, err := browser.Get(base + "/console/cases/" + caseID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	link := fmt.Sprintf("%s/namespaces/default/workflows/%s/%s/history", ui, cs.WorkflowID, cs.RunID)
	if !bytes.Contains(page, []byte(`href="`+link+`"`)) {
		t.Errorf("the case page does not link to %s", link)
	}
	if r, err := http.Get(link); err != nil || r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET %s = %v %v, want the UI's page", link, r, err)
	} else {
		r.Body.Close()
	}

	stop()
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", uiPort), time.Second); err == nil {
		c.Close()
		t.Error("the UI still listens after certdesk dev stopped")
	}
}

// --ui-port 0 serves no UI: the banner names none and the case page links
// nowhere.
func TestDevWithoutTheUI(t *testing.T) {
	banner, base, _ := inProcessDev(t, "--ui-port", "0")
	if strings.Contains(banner, "Temporal Web UI") {
		t.Errorf("with --ui-port 0 the banner names a UI:\n%s", banner)
	}
	caseID, browser := openCase(t, base)
	resp, err := browser.Get(base + "/console/cases/" + caseID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if bytes.Contains(page, []byte("Temporal Web UI")) {
		t.Errorf("with --ui-port 0 the case page links to a Temporal Web UI")
	}
}

// A UI port that is not one, or that another program holds, is refused
// before anything starts, with words saying what to do.
func TestDevUIPortMistakes(t *testing.T) {
	t.Setenv("CERTDESK_DATABASE_URL", "")
	t.Setenv("CERTDESK_PUBLIC_URL", "")
	t.Setenv("CERTDESK_SECRET", "")
	dir := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{{"--ui-port", "-1"}, {"--ui-port", "70000"}, {"--ui-port", "7300", "--temporal-port", "7300"}} {
		err := run(context.Background(), append([]string{"dev", "--data-dir", dir}, args...), io.Discard)
		if exitStatus(err) != 2 || !strings.Contains(err.Error(), "--ui-port") {
			t.Errorf("certdesk dev %v = %v (status %d), want a usage error naming --ui-port", args, err, exitStatus(err))
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	held := l.Addr().(*net.TCPAddr).Port
	err = run(context.Background(), []string{"dev", "--data-dir", dir, "--http", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"--temporal-port", fmt.Sprint(freePort(t)), "--ui-port", fmt.Sprint(held)}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("port %d is taken", held)) || !strings.Contains(err.Error(), "--ui-port 0") {
		t.Errorf("certdesk dev on a held UI port = %v, want it named, with --ui-port 0 offered", err)
	}
}

// certdesk dev --help names the UI's flag and its default.
func TestDevHelpNamesTheUIPort(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"dev", "--help"}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "-ui-port") || !strings.Contains(out.String(), "8233") {
		t.Errorf("certdesk dev --help does not name --ui-port and its default 8233:\n%s", out.String())
	}
}
