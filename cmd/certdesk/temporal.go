package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/workflows"
)

// runTemporal prepares a Temporal namespace for certdesk:
//
//	certdesk temporal setup [--retention D] [--timeout D]
//
// It creates the namespace (TEMPORAL_NAMESPACE) when it is missing and
// registers certdesk's search attributes on it (CaseId, CaseKind,
// CaseStatus, CaseAssignee: Keyword; CaseEscalated: Bool). It is
// idempotent: run it before every deployment. Dev mode's embedded server
// does the same by itself. (`certdesk temporal serve`, a bench's server, is
// hidden: main.go.)
func runTemporal(ctx context.Context, args []string, stdout io.Writer) error {
	_, cmd, f, args, err := subcommand("temporal", []string{"setup"}, args, stdout, temporalCommand)
	if err != nil {
		return err
	}
	if err := cmd.parse(args); err != nil {
		return err
	}
	if f.retention < 24*time.Hour {
		return usagef("temporal setup: --retention %v: at least 24h (the server's minimum is a day)", f.retention)
	}
	if f.timeout <= 0 {
		return usagef("temporal setup: --timeout must be positive")
	}
	cfg, err := config.Load(config.ModeProduction, nil)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	opts, err := cfg.Temporal.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return fmt.Errorf("temporal client config: %w", err)
	}
	opts.Logger = sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal setup: Temporal at %s: %w", opts.HostPort, err)
	}
	defer tc.Close()
	return setupNamespace(ctx, tc, opts.Namespace, f.retention, stdout)
}

type temporalFlags struct {
	retention, timeout time.Duration
}

func temporalCommand(sub string, stdout io.Writer) (*command, *temporalFlags) {
	if sub != "setup" {
		return nil, nil
	}
	f := &temporalFlags{}
	cmd := newCommand("temporal setup", "temporal setup [--retention D] [--timeout D]",
		"Prepares the Temporal namespace certdesk runs in (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and Temporal's other client variables): "+
			"creates it when it is missing, and registers certdesk's search attributes on it "+
			"(CaseId, CaseKind, CaseStatus, CaseAssignee: Keyword; CaseEscalated: Bool), so that cases are found with "+
			"`temporal workflow list --query 'CaseStatus=\"awaiting_agent\" AND CaseKind=\"merge\"'` and the Web UI. "+
			"Run it before the first deployment and before every upgrade: it is idempotent, and prints what it did. "+
			"The api and worker need the attributes: a case's start names them, and an unknown one is refused.", stdout)
	cmd.DurationVar(&f.retention, "retention", 30*24*time.Hour, "how long closed workflows stay in Temporal, for a namespace this creates (an existing one keeps its own)")
	cmd.DurationVar(&f.timeout, "timeout", time.Minute, "how long to wait for Temporal, and for a new namespace and its attributes to be usable")
	return cmd, f
}

// setupNamespace creates the namespace when it is missing, registers the
// search attributes it lacks, and waits until a query naming them is
// accepted. It prints a line per thing it did or found done.
func setupNamespace(ctx context.Context, tc client.Client, namespace string, retention time.Duration, stdout io.Writer) error {
	_, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	var missing *serviceerror.NamespaceNotFound
	switch {
	case errors.As(err, &missing):
		_, err = tc.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace: namespace, WorkflowExecutionRetentionPeriod: durationpb.New(retention),
			Description: "certdesk's support cases",
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if err != nil && !errors.As(err, &exists) {
			return fmt.Errorf("temporal setup: create namespace %q: %w", namespace, err)
		}
		fmt.Fprintf(stdout, "namespace %s: created (retention %s)\n", namespace, retention)
	case err != nil:
		return fmt.Errorf("temporal setup: namespace %q: %w", namespace, err)
	default:
		fmt.Fprintf(stdout, "namespace %s: exists\n", namespace)
	}

	want := workflows.SearchAttributes()
	var added []string
	// A namespace just created reaches the server's cache of namespaces
	// within seconds: until then it is "not found" to the operator service.
	for {
		added, err = devserver.EnsureSearchAttributes(ctx, tc.OperatorService(), namespace, want)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(250 * time.Millisecond):
		}
	}
	if err != nil {
		if denied(err) {
			return fmt.Errorf("temporal setup: %w\n(Temporal Cloud: add them with tcld or the Cloud UI — %s)", err, attributeList(want))
		}
		return fmt.Errorf("temporal setup: %w", err)
	}
	names := workflows.SearchAttributeNames()
	for _, n := range names {
		state := "registered already"
		if slices.Contains(added, n) {
			state = "added"
		}
		fmt.Fprintf(stdout, "search attribute %s (%s): %s\n", n, want[n], state)
	}
	if err := devserver.AwaitSearchAttributes(ctx, tc.WorkflowService(), namespace, names); err != nil {
		return fmt.Errorf("temporal setup: %w", err)
	}
	fmt.Fprintf(stdout, "namespace %s is ready for certdesk: try temporal workflow list --namespace %s --query 'CaseStatus=\"awaiting_agent\"'\n", namespace, namespace)
	return nil
}

// retryable is what a namespace just created answers for a moment.
func retryable(err error) bool {
	var nf *serviceerror.NamespaceNotFound
	var un *serviceerror.Unavailable
	return errors.As(err, &nf) || errors.As(err, &un)
}

// denied is an operator service the caller may not use (Temporal Cloud's
// namespaces are managed through its own API).
func denied(err error) bool {
	var pd *serviceerror.PermissionDenied
	var ui *serviceerror.Unimplemented
	return errors.As(err, &pd) || errors.As(err, &ui)
}

func attributeList(want map[string]enumspb.IndexedValueType) string {
	var parts []string
	for _, n := range workflows.SearchAttributeNames() {
		parts = append(parts, n+" "+want[n].String())
	}
	return strings.Join(parts, ", ")
}
