package worker_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/worker"
	"github.com/certdesk/certdesk/workflows"
)

const (
	buildA = "build-a"
	buildB = "build-b"
)

// sentMail is an email as the SendGrid stand-in got it, with the build
// whose worker sent it.
type sentMail struct{ kind, to, build string }

// mailLog is the stand-in both builds send through. Emails of one kind wait
// at a gate until the test opens it (SendGrid slow to answer), so the case
// that sends one stays open.
type mailLog struct {
	mu       sync.Mutex
	sent     []sentMail
	gateKind string
	gate     chan struct{}
	arrived  chan string // the build whose send waits at the gate
}

func (l *mailLog) sentBy(kind, to string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var builds []string
	for _, m := range l.sent {
		if m.kind == kind && m.to == to {
			builds = append(builds, m.build)
		}
	}
	return builds
}

// buildMailer is one build's mailer.
type buildMailer struct {
	build string
	log   *mailLog
}

func (m buildMailer) Send(ctx context.Context, msg mail.Message) (string, error) {
	if msg.Kind == m.log.gateKind {
		select {
		case m.log.arrived <- m.build:
		default:
		}
		select {
		case <-m.log.gate:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	m.log.mu.Lock()
	defer m.log.mu.Unlock()
	m.log.sent = append(m.log.sent, sentMail{msg.Kind, msg.To, m.build})
	return fmt.Sprintf("msg-%d", len(m.log.sent)), nil
}

// A rollout with worker versioning on, on the embedded server: build A is
// current; a merge waits for an agent and an account-added notice waits
// for SendGrid, both on A. Build B starts and is made current. A new
// connect case runs on B. The notice (pinned) stays on A and finishes
// there while A still runs; the deployment then says A is drained. A
// stops; the merge (AutoUpgrade) is decided and completes on B, and every
// open workflow of the task queue is on B: nothing waits for A.
func TestANewBuildTakesNewCasesWhileOpenOnesFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	ctx := context.Background()
	mails := &mailLog{gateKind: mail.AccountAdded, gate: make(chan struct{}), arrived: make(chan string, 4)}
	s := stacktest.Start(t, stacktest.Options{
		Mailer: buildMailer{buildA, mails},
		Configure: func(c *config.Config) {
			c.WorkerVersioning = true
			c.WorkerDeployment = c.TaskQueue
			c.WorkerBuildID = buildA
			c.WorkerStopTimeout = time.Second
		},
	})
	deployment := s.Config.WorkerDeployment
	promote(t, s, buildA)

	// A merge waits for an agent, on A.
	chen := s.Login("chen.wei@outlook.example")
	r := s.Do("POST", "/api/v1/merge-requests", chen, map[string]any{
		"profile_ids": []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}, "note": "Both are me."})
	if r.Code != http.StatusAccepted {
		t.Fatalf("merge request: %d %s", r.Code, r.Body)
	}
	mergeID, _ := r.JSON(t)["id"].(string)
	merge := s.AwaitStatus(mergeID, certdesk.StatusAwaitingAgent)
	expectOn(t, s, merge.WorkflowID, buildA, enumspb.VERSIONING_BEHAVIOR_AUTO_UPGRADE)

	// Ben adds his personal account: the notice to its owner waits for
	// SendGrid, on A.
	const benPersonal = "ben.okafor@hotmail.example"
	lp := store.DemoID("lp:ben")
	r = s.Do("POST", "/api/v1/learning-profiles/"+lp+"/accounts", s.Login("ben.okafor@contoso.example"), map[string]string{"email": benPersonal, "kind": "personal"})
	if r.Code != http.StatusCreated {
		t.Fatalf("add account: %d %s", r.Code, r.Body)
	}
	var added struct {
		Account struct{ ID string } `json:"account"`
	}
	r.Decode(t, &added)
	notice := workflows.AccountAddedWorkflowID(added.Account.ID, lp)
	select {
	case b := <-mails.arrived:
		if b != buildA {
			t.Fatalf("the account-added email is sent by %s, want %s", b, buildA)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the account-added email was never sent")
	}

	// Build B starts and is made current; A still runs.
	cfgB := s.Config
	cfgB.WorkerBuildID = buildB
	actsB := *s.Acts
	actsB.Mailer = buildMailer{buildB, mails}
	wb := worker.New(s.Client, cfgB, &actsB)
	if err := wb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(wb.Stop)
	promote(t, s, buildB)

	// A new case runs on B, from its first task to its last.
	ana := s.Login("ana.silva@outlook.example")
	r = s.Do("POST", "/api/v1/connect-requests", ana, nil)
	if r.Code != http.StatusAccepted {
		t.Fatalf("connect request: %d %s", r.Code, r.Body)
	}
	connectID, _ := r.JSON(t)["id"].(string)
	connect := s.AwaitStatus(connectID, certdesk.StatusCompleted)
	expectOn(t, s, connect.WorkflowID, buildB, enumspb.VERSIONING_BEHAVIOR_AUTO_UPGRADE)
	if builds := taskBuilds(t, s, connect.WorkflowID); slices.Contains(builds, buildA) || len(builds) == 0 {
		t.Errorf("the new connect case's workflow tasks ran on %v, want only %s", builds, buildB)
	}
	if got := mails.sentBy(mail.ConnectCompleted, "ana.silva@outlook.example"); !slices.Equal(got, []string{buildB}) {
		t.Errorf("Ana's completion email sent by %v, want %s once", got, buildB)
	}

	// The pinned notice is still A's, and the deployment, having looked,
	// says A is draining: not to be stopped yet.
	expectOn(t, s, notice, buildA, enumspb.VERSIONING_BEHAVIOR_PINNED)
	// (A version starts draining when it stops being current; the server
	// counts its open pinned workflows after a grace period.)
	var checked client.WorkerDeploymentVersionDrainageInfo
	s.Eventually("a drainage check of build A", func() bool {
		d, err := s.Client.WorkerDeploymentClient().GetHandle(deployment).DescribeVersion(ctx, client.WorkerDeploymentDescribeVersionOptions{BuildID: buildA})
		if err != nil || d.Info.DrainageInfo == nil {
			return false
		}
		checked = *d.Info.DrainageInfo
		return checked.LastCheckedTime.After(checked.LastChangedTime) || checked.DrainageStatus != client.WorkerDeploymentVersionDrainageStatusDraining
	})
	if checked.DrainageStatus != client.WorkerDeploymentVersionDrainageStatusDraining {
		t.Errorf("build A's drainage with a pinned notice open on it: %v, want draining", checked.DrainageStatus)
	}
	// SendGrid answers; the notice ends on A.
	close(mails.gate)
	if err := s.Client.GetWorkflow(ctx, notice, "").Get(ctx, nil); err != nil {
		t.Fatalf("the account-added notice: %v", err)
	}
	if got := mails.sentBy(mail.AccountAdded, benPersonal); !slices.Equal(got, []string{buildA}) {
		t.Errorf("the account-added email sent by %v, want %s once", got, buildA)
	}
	if builds := taskBuilds(t, s, notice); slices.Contains(builds, buildB) {
		t.Errorf("the pinned notice's workflow tasks ran on %v, want only %s", builds, buildA)
	}

	// Nothing is pinned to A any more: the deployment says so; A stops.
	s.Eventually("build A drained", func() bool {
		return drainage(t, s, deployment, buildA) == client.WorkerDeploymentVersionDrainageStatusDrained
	})
	s.StopWorker()

	// The merge A started is decided with A gone: it completes on B.
	alice := s.Login("alice.agent@certdesk.example")
	if r := s.Do("POST", "/api/v1/cases/"+mergeID+"/claim", alice, nil); r.Code != http.StatusOK {
		t.Fatalf("claim: %d %s", r.Code, r.Body)
	}
	if r := s.Do("POST", "/api/v1/cases/"+mergeID+"/decision", alice, map[string]string{"decision": "approve", "note": "Same person."}); r.Code != http.StatusOK {
		t.Fatalf("decision: %d %s", r.Code, r.Body)
	}
	if done := s.AwaitStatus(mergeID, certdesk.StatusCompleted); done.Resolution != "merged" {
		t.Errorf("the merge ended %s/%s, want completed/merged", done.Status, done.Resolution)
	}
	expectOn(t, s, merge.WorkflowID, buildB, enumspb.VERSIONING_BEHAVIOR_AUTO_UPGRADE)
	if builds := taskBuilds(t, s, merge.WorkflowID); !slices.Contains(builds, buildA) || builds[len(builds)-1] != buildB {
		t.Errorf("the merge's workflow tasks ran on %v, want %s then %s", builds, buildA, buildB)
	}

	// Every workflow still open on the task queue (the webhook sender) has
	// moved to B.
	s.Eventually("every open workflow on build B", func() bool {
		open := openWorkflows(t, s)
		for _, id := range open {
			d, err := s.Client.DescribeWorkflowExecution(ctx, id, "")
			if err != nil || d.GetWorkflowExecutionInfo().GetVersioningInfo().GetDeploymentVersion().GetBuildId() != buildB {
				return false
			}
		}
		return len(open) > 0
	})
}

// promote waits for a build's workers to be known to the deployment and
// makes the build current, as `certdesk deploy set-current` does.
func promote(t *testing.T, s *stacktest.Stack, buildID string) {
	t.Helper()
	var info client.WorkerDeploymentInfo
	var err error
	s.Eventually(buildID+" known to the deployment", func() bool {
		info, err = worker.SetCurrent(context.Background(), s.Client, s.Config.WorkerDeployment, buildID)
		return err == nil
	})
	if cur := info.RoutingConfig.CurrentVersion; cur == nil || cur.BuildID != buildID {
		t.Fatalf("after set-current %s the current version is %+v", buildID, cur)
	}
}

// expectOn checks where Temporal says a workflow runs, and how it moves.
func expectOn(t *testing.T, s *stacktest.Stack, workflowID, buildID string, behavior enumspb.VersioningBehavior) {
	t.Helper()
	d, err := s.Client.DescribeWorkflowExecution(context.Background(), workflowID, "")
	if err != nil {
		t.Fatal(err)
	}
	vi := d.GetWorkflowExecutionInfo().GetVersioningInfo()
	if got := vi.GetDeploymentVersion(); got.GetDeploymentName() != s.Config.WorkerDeployment || got.GetBuildId() != buildID || vi.GetBehavior() != behavior {
		t.Errorf("%s runs on %s:%s (%s), want %s:%s (%s)", workflowID, got.GetDeploymentName(), got.GetBuildId(), vi.GetBehavior(),
			s.Config.WorkerDeployment, buildID, behavior)
	}
}

// taskBuilds lists the build of each completed workflow task in a
// workflow's history.
func taskBuilds(t *testing.T, s *stacktest.Stack, workflowID string) []string {
	t.Helper()
	var builds []string
	it := s.Client.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowTaskCompletedEventAttributes(); a != nil {
			builds = append(builds, a.GetDeploymentVersion().GetBuildId())
		}
	}
	return builds
}

// drainage is what the deployment says of a build's drainage.
func drainage(t *testing.T, s *stacktest.Stack, deployment, buildID string) client.WorkerDeploymentVersionDrainageStatus {
	t.Helper()
	info, err := worker.DescribeDeployment(context.Background(), s.Client, deployment)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range info.VersionSummaries {
		if v.Version.BuildID == buildID {
			return v.DrainageStatus
		}
	}
	return client.WorkerDeploymentVersionDrainageStatusUnspecified
}

// openWorkflows lists the ids of the workflows running on the stack's task
// queue.
func openWorkflows(t *testing.T, s *stacktest.Stack) []string {
	t.Helper()
	var ids []string
	it, err := s.Client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", s.Config.TaskQueue)})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range it.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}
