package devserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk/devserver"
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

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// The Temporal Web UI served beside the embedded server: its page and
// assets, its settings naming the codec endpoint the browser is to use
// with its cookies, and its API answering from the real server (a workflow
// started with the SDK shows in the UI's list). Stopped, it answers no more.
func TestUIServesTheRealServer(t *testing.T) {
	ctx := context.Background()
	srv, err := devserver.Start(ctx, devserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	port := freePort(t)
	const codec = "http://127.0.0.1:8080/codec"
	ui, err := srv.StartUI(ctx, devserver.UIOptions{Port: port, CodecEndpoint: codec})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			ui.Stop()
		}
	})
	if want := "http://127.0.0.1:" + strconv.Itoa(port); ui.URL() != want {
		t.Errorf("URL = %q, want %q", ui.URL(), want)
	}

	resp, page := get(t, ui.URL()+"/namespaces/default/workflows")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(page, "<html") {
		t.Fatalf("the UI's page = %d %s:\n%.300s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	asset := regexp.MustCompile(`/_app/immutable/[^"]+\.js`).FindString(page)
	if asset == "" {
		t.Fatalf("the UI's page names no script:\n%.500s", page)
	}
	if resp, body := get(t, ui.URL()+asset); resp.StatusCode != 200 || len(body) == 0 {
		t.Errorf("GET %s = %d (%d bytes), want the UI's script", asset, resp.StatusCode, len(body))
	}

	resp, body := get(t, ui.URL()+"/api/v1/settings")
	var settings struct {
		DefaultNamespace string
		Codec            struct {
			Endpoint           string
			IncludeCredentials bool
		}
	}
	if err := json.Unmarshal([]byte(body), &settings); resp.StatusCode != 200 || err != nil {
		t.Fatalf("settings = %d %v: %s", resp.StatusCode, err, body)
	}
	if settings.Codec.Endpoint != codec || !settings.Codec.IncludeCredentials || settings.DefaultNamespace != devserver.Namespace {
		t.Errorf("settings name codec %+v, namespace %q; want %s with the browser's credentials, namespace %s",
			settings.Codec, settings.DefaultNamespace, codec, devserver.Namespace)
	}

	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const id = "ui-test-workflow"
	if _, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "ui-test"}, "NobodyRunsThis"); err != nil {
		t.Fatal(err)
	}
	var last string
	listed := func() bool {
		resp, body := get(t, ui.URL()+"/api/v1/namespaces/default/workflows")
		var list struct {
			Executions []struct {
				Execution struct{ WorkflowID string } `json:"execution"`
				Type      struct{ Name string }       `json:"type"`
			} `json:"executions"`
		}
		if err := json.Unmarshal([]byte(body), &list); resp.StatusCode != 200 || err != nil {
			t.Fatalf("the UI's workflow list = %d %v: %s", resp.StatusCode, err, body)
		}
		last = body
		return len(list.Executions) == 1 && list.Executions[0].Execution.WorkflowID == id && list.Executions[0].Type.Name == "NobodyRunsThis"
	}
	// Visibility is written a moment after the start.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the UI's last list: %s", last)
		}
	})
	waitUntil(t, listed)

	ui.Stop()
	stopped = true
	if resp, err := http.Get(ui.URL() + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("the UI still answers after Stop: %s", resp.Status)
	}
}

// A port another program holds is a clear error, not the end of the
// process (the UI server's own start would exit on it).
func TestUIPortTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	err = devserver.CheckPortFree(port)
	if err == nil || !strings.Contains(err.Error(), "port "+strconv.Itoa(port)+" is taken") {
		t.Errorf("CheckPortFree on a held port = %v, want it taken", err)
	}
	var srv devserver.Server
	if _, err := srv.StartUI(context.Background(), devserver.UIOptions{Port: port}); err == nil {
		t.Error("StartUI on a held port succeeded")
	}
}
