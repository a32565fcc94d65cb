package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	namespacepb "go.temporal.io/api/namespace/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// NamespaceRetention keeps Temporal's closed workflows as long as the store
// keeps the personal data of ended cases (CERTDESK_RETENTION): then
// Temporal deletes their histories as the sweep redacts their cases. Dev
// mode owns its namespace and sets it (set); in production the namespace
// is the operator's, so a retention that differs is reported with the
// command that fixes it. It returns the namespace's retention after.
func NamespaceRetention(ctx context.Context, tc client.Client, namespace string, want time.Duration, set bool) (time.Duration, error) {
	ns, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
	if err != nil {
		return 0, fmt.Errorf("temporal: describe namespace %s: %w", namespace, err)
	}
	have := ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	if have == want {
		return have, nil
	}
	if !set {
		slog.WarnContext(ctx, "Temporal keeps closed workflows for another time than certdesk keeps ended cases' personal data (CERTDESK_RETENTION); set it",
			"namespace", namespace, "temporal_retention", have.String(), "certdesk_retention", want.String(),
			"command", fmt.Sprintf("temporal operator namespace update --namespace %s --retention %dh", namespace, int(want.Hours())))
		return have, nil
	}
	// Only the retention is set: the server leaves what is not.
	_, err = tc.WorkflowService().UpdateNamespace(ctx, &workflowservice.UpdateNamespaceRequest{
		Namespace: namespace, Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: durationpb.New(want)},
	})
	if err != nil {
		return have, fmt.Errorf("temporal: set the retention of namespace %s to %s: %w", namespace, want, err)
	}
	return want, nil
}
