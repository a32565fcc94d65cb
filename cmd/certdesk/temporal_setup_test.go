package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/workflows"
)

// `certdesk temporal setup` against a server (the embedded one, as a
// cluster): a namespace that does not exist is created with the retention
// asked and gets every search attribute, usable in a query at once; run
// again it changes nothing and says so; an attribute of the wrong type is
// refused, naming it; mistakes are usage errors.
func TestTemporalSetup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	srv := stacktest.Temporal(t)
	ns := "setup-" + strings.ToLower(certdesk.NewID())
	t.Setenv("TEMPORAL_ADDRESS", srv.HostPort())
	t.Setenv("TEMPORAL_NAMESPACE", ns)
	setup := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"temporal", "setup"}, args...), &out)
		return out.String(), err
	}

	out, err := setup("--retention", "72h")
	if err != nil {
		t.Fatalf("first setup: %v\n%s", err, out)
	}
	for _, want := range []string{"namespace " + ns + ": created (retention 72h0m0s)",
		"search attribute CaseId (Keyword): added", "search attribute CaseKind (Keyword): added",
		"search attribute CaseStatus (Keyword): added", "search attribute CaseAssignee (Keyword): added",
		"search attribute CaseEscalated (Bool): added", "is ready for certdesk"} {
		if !strings.Contains(out, want) {
			t.Errorf("first setup's output lacks %q:\n%s", want, out)
		}
	}
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	d, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
	if err != nil || d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration().Hours() != 72 {
		t.Errorf("namespace %s: %v, retention %v", ns, err, d.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration())
	}
	list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range workflows.SearchAttributes() {
		if got := list.GetCustomAttributes()[name]; got != typ {
			t.Errorf("search attribute %s is %v, want %v", name, got, typ)
		}
	}
	if _, err := c.WorkflowService().CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: ns,
		Query: `CaseStatus="awaiting_agent" AND CaseKind="merge" AND CaseEscalated=true AND CaseAssignee="a" AND CaseId="b"`}); err != nil {
		t.Errorf("a query on the attributes after setup: %v", err)
	}

	out, err = setup()
	if err != nil {
		t.Fatalf("second setup: %v\n%s", err, out)
	}
	if !strings.Contains(out, "namespace "+ns+": exists") || strings.Contains(out, "added") ||
		strings.Count(out, "registered already") != len(workflows.SearchAttributes()) {
		t.Errorf("second setup should find everything done:\n%s", out)
	}

	// A namespace where CaseEscalated is a Keyword: refused, not silently kept.
	clash := "setup-clash-" + strings.ToLower(certdesk.NewID())
	if _, err := c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: clash,
		WorkflowExecutionRetentionPeriod: d.GetConfig().GetWorkflowExecutionRetentionTtl()}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEMPORAL_NAMESPACE", clash)
	for {
		_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: clash,
			SearchAttributes: map[string]enumspb.IndexedValueType{"CaseEscalated": enumspb.INDEXED_VALUE_TYPE_KEYWORD}})
		if err == nil {
			break
		}
		if !retryable(err) {
			t.Fatal(err)
		}
	}
	out, err = setup()
	if err == nil || exitStatus(err) != 1 || !strings.Contains(err.Error(), "CaseEscalated is Keyword, certdesk needs Bool") {
		t.Errorf("setup on a namespace with CaseEscalated as a Keyword: %v\n%s", err, out)
	}

	for _, args := range [][]string{{"--retention", "1h"}, {"--timeout", "0s"}, {"extra"}} {
		if _, err := setup(args...); exitStatus(err) != 2 {
			t.Errorf("temporal setup %v: %v, want a usage error", args, err)
		}
	}
	if err := run(context.Background(), []string{"temporal", "frobnicate"}, &bytes.Buffer{}); exitStatus(err) != 2 {
		t.Errorf("temporal frobnicate: %v, want a usage error", err)
	}
}

// `certdesk temporal --help` and `temporal setup --help` print the usage
// with its flags and succeed, needing no configuration or server.
func TestTemporalSetupHelps(t *testing.T) {
	for _, args := range [][]string{{"temporal", "--help"}, {"temporal", "setup", "--help"}, {"temporal", "setup", "-h"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, &out); err != nil {
			t.Errorf("%v: %v", args, err)
		}
		for _, want := range []string{"certdesk temporal setup", "-retention", "-timeout", "CaseStatus", "CaseEscalated"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v prints no %q:\n%s", args, want, out.String())
			}
		}
	}
	var out bytes.Buffer
	_ = run(context.Background(), []string{"help"}, &out)
	if !strings.Contains(out.String(), "certdesk temporal setup") {
		t.Errorf("certdesk help does not list temporal setup:\n%s", out.String())
	}
}
