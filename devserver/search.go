package devserver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/server/common/dynamicconfig"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/certdesk/certdesk/workflows"
)

// Certdesk's custom search attributes (workflows/search.go) are on the
// embedded server's namespace from the start: written with the namespace
// when it is created (no wait: the server reads them as it starts), and
// added through the operator service at every start, for a data dir whose
// namespace was made before them (then the start waits until they can be
// used). SQLite visibility keeps them in its preallocated columns (ten
// keyword, three bool).

// searchAttributes are what the namespace is created with.
func searchAttributes() map[string]enumspb.IndexedValueType { return workflows.SearchAttributes() }

// registerSearchAttributes adds any of certdesk's search attributes the
// namespace lacks, and waits until the server takes them.
func (s *Server) registerSearchAttributes(ctx context.Context) error {
	conn, err := grpc.NewClient(s.hostPort, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("devserver: dial %s: %w", s.hostPort, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	added, err := EnsureSearchAttributes(ctx, operatorservice.NewOperatorServiceClient(conn), Namespace, searchAttributes())
	if err != nil || len(added) == 0 {
		return err
	}
	if err := AwaitSearchAttributes(ctx, workflowservice.NewWorkflowServiceClient(conn), Namespace, added); err != nil {
		return err
	}
	// The frontend takes them; the history service, which checks a
	// workflow's upserts, refreshes its own view of the namespace on the
	// same interval: give it one.
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(dynamicconfig.NamespaceCacheRefreshInterval.Get(dynamicconfig.NewNoopCollection())()):
	}
	return nil
}

// EnsureSearchAttributes registers on a namespace each of want's search
// attributes it lacks (operator service AddSearchAttributes) and returns the
// names it added, sorted; none when all are there. One registered with
// another type is an error: the server would keep the other type (on SQL
// visibility it skips a name it has, whatever the type asked).
func EnsureSearchAttributes(ctx context.Context, op operatorservice.OperatorServiceClient, namespace string,
	want map[string]enumspb.IndexedValueType) (added []string, err error) {
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return nil, fmt.Errorf("list the search attributes of namespace %q: %w", namespace, err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	var clash []string
	for name, typ := range want {
		got, ok := have.GetCustomAttributes()[name]
		if !ok {
			got, ok = have.GetSystemAttributes()[name]
		}
		switch {
		case !ok:
			missing[name] = typ
			added = append(added, name)
		case got != typ:
			clash = append(clash, fmt.Sprintf("%s is %s, certdesk needs %s", name, got, typ))
		}
	}
	if len(clash) > 0 {
		slices.Sort(clash)
		return nil, fmt.Errorf("namespace %q has search attributes of the wrong type (%s): remove them first (temporal operator search-attribute remove)",
			namespace, strings.Join(clash, "; "))
	}
	if len(missing) == 0 {
		return nil, nil
	}
	_, err = op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return nil, fmt.Errorf("add search attributes %v to namespace %q: %w", sortedKeys(missing), namespace, err)
	}
	slices.Sort(added)
	return added, nil
}

// AwaitSearchAttributes waits until the frontend accepts a visibility
// query naming every one of names (a namespace's new attributes reach the
// server's cache of it within its refresh interval, 2 s by default).
func AwaitSearchAttributes(ctx context.Context, wf workflowservice.WorkflowServiceClient, namespace string, names []string) error {
	terms := make([]string, len(names))
	for i, n := range names {
		terms[i] = n + " IS NOT NULL"
	}
	query := strings.Join(terms, " AND ")
	for {
		_, err := wf.CountWorkflowExecutions(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: query})
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("search attributes %v of namespace %q not usable yet: %w", names, namespace, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
