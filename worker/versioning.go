package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/workflows"
)

// With worker versioning on (CERTDESK_WORKER_VERSIONING), each build is a
// version of a Temporal Worker Deployment, and each workflow type says what
// happens to its open executions when another build becomes current:
//
//   - AutoUpgrade: the execution's next workflow task runs on the current
//     build. Safe only when the new code replays the old histories, which is
//     what workflow.GetVersion and the replay corpus
//     (workflows/testdata/histories, TestReplayCommittedHistories) guard.
//   - Pinned: the execution finishes on the build it started on; that build
//     must run until the deployment says it is drained.
//
// The cases wait days for people (a merge or a recovery for an agent, a
// connect for the learner for two weeks, a recovery's cooling-off for
// three days): pinned, every build of a month would have to keep running,
// and an activity fix would never reach an open case. Their changes are
// already made behind GetVersion and checked by the replay corpus, so they
// move. The short ones stay where they started.
var workflowTypes = []struct {
	fn       any
	behavior workflow.VersioningBehavior
}{
	// Long-running, in the replay corpus, every change behind GetVersion.
	{workflows.Connect, workflow.VersioningBehaviorAutoUpgrade},
	{workflows.Merge, workflow.VersioningBehaviorAutoUpgrade},
	{workflows.Recovery, workflow.VersioningBehaviorAutoUpgrade},
	{workflows.Unmerge, workflow.VersioningBehaviorAutoUpgrade},
	{workflows.Inquiry, workflow.VersioningBehaviorAutoUpgrade},
	// Runs for ever (continue-as-new inherits a pin): pinned, it would
	// hold its first build and no build would ever drain. Its state is in
	// the store; its code is one loop, changed behind GetVersion too.
	{workflows.WebhookDelivery, workflow.VersioningBehaviorAutoUpgrade},
	// A daily run of minutes that nothing waits on: one run applies one
	// build's rules from its first page to its last notice; the next day's
	// run starts on the current build.
	{workflows.InactivitySweep, workflow.VersioningBehaviorPinned},
	// One email, not in the replay corpus: it never meets other code.
	{workflows.AccountAdded, workflow.VersioningBehaviorPinned},
	// One agent's reply by email, the same.
	{workflows.CaseReply, workflow.VersioningBehaviorPinned},
}

// DeploymentOptions returns the worker's versioning options: none unless
// CERTDESK_WORKER_VERSIONING is on. Every workflow type has its own
// behaviour (workflowTypes), so there is no default: a new type registered
// without one makes a versioned worker refuse to start.
func DeploymentOptions(cfg config.Config) sdkworker.DeploymentOptions {
	if !cfg.WorkerVersioning {
		return sdkworker.DeploymentOptions{}
	}
	return sdkworker.DeploymentOptions{UseVersioning: true, Version: Version(cfg)}
}

// Version is the deployment version this worker is.
func Version(cfg config.Config) sdkworker.WorkerDeploymentVersion {
	return sdkworker.WorkerDeploymentVersion{DeploymentName: cfg.WorkerDeployment, BuildID: cfg.WorkerBuildID}
}

// logRouting says, at start, whether this build takes new cases, and how
// to make it: a versioned worker of a build that is not current only runs
// what is pinned to it.
func logRouting(ctx context.Context, c client.Client, cfg config.Config) {
	if !cfg.WorkerVersioning {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v := Version(cfg)
	log := slog.With("deployment", v.DeploymentName, "build_id", v.BuildID)
	promote := "certdesk deploy set-current --build-id " + v.BuildID
	d, err := c.WorkerDeploymentClient().GetHandle(v.DeploymentName).Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	if err != nil {
		// A new deployment appears with its first worker's first poll.
		log.InfoContext(ctx, "worker versioning on: this build takes new cases once it is current", "promote", promote, "describe", err.Error())
		return
	}
	rc := d.Info.RoutingConfig
	switch {
	case rc.CurrentVersion != nil && *rc.CurrentVersion == v:
		log.InfoContext(ctx, "worker versioning on: this build is current and takes new cases")
	case rc.RampingVersion != nil && *rc.RampingVersion == v:
		log.InfoContext(ctx, "worker versioning on: this build is ramping", "percent", rc.RampingVersionPercentage, "promote", promote)
	default:
		current := "unversioned workers"
		if rc.CurrentVersion != nil {
			current = rc.CurrentVersion.BuildID
		}
		log.WarnContext(ctx, "worker versioning on: this build is not current and takes no new cases until it is promoted", "current", current, "promote", promote)
	}
}

// SetCurrent makes a build the deployment's current version: new cases
// start on it, and AutoUpgrade cases move to it at their next task. An
// empty build id makes unversioned workers current (to turn versioning
// off). It returns the deployment as it is afterwards.
func SetCurrent(ctx context.Context, c client.Client, deployment, buildID string) (client.WorkerDeploymentInfo, error) {
	h := c.WorkerDeploymentClient().GetHandle(deployment)
	d, err := knownBuild(ctx, h, deployment, buildID)
	if err != nil {
		return client.WorkerDeploymentInfo{}, err
	}
	// The conflict token: a change made since the description is refused,
	// not overwritten.
	if _, err := h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{BuildID: buildID, ConflictToken: d.ConflictToken}); err != nil {
		return client.WorkerDeploymentInfo{}, fmt.Errorf("worker: make %s current in deployment %q: %w", buildName(buildID), deployment, err)
	}
	return DescribeDeployment(ctx, c, deployment)
}

// Ramp sends a share of new cases (percent, 0 to 100) and of AutoUpgrade
// cases' tasks to a build that is not current yet; the rest go to the
// current one. An empty build id with percent 0 ends a ramp.
func Ramp(ctx context.Context, c client.Client, deployment, buildID string, percent float32) (client.WorkerDeploymentInfo, error) {
	if percent < 0 || percent > 100 {
		return client.WorkerDeploymentInfo{}, fmt.Errorf("worker: ramp %v%%: a percentage is between 0 and 100", percent)
	}
	h := c.WorkerDeploymentClient().GetHandle(deployment)
	d, err := knownBuild(ctx, h, deployment, buildID)
	if err != nil {
		return client.WorkerDeploymentInfo{}, err
	}
	if _, err := h.SetRampingVersion(ctx, client.WorkerDeploymentSetRampingVersionOptions{BuildID: buildID, Percentage: percent, ConflictToken: d.ConflictToken}); err != nil {
		return client.WorkerDeploymentInfo{}, fmt.Errorf("worker: ramp %s to %v%% in deployment %q: %w", buildName(buildID), percent, deployment, err)
	}
	return DescribeDeployment(ctx, c, deployment)
}

// DescribeDeployment returns a deployment: its routing and its versions.
func DescribeDeployment(ctx context.Context, c client.Client, deployment string) (client.WorkerDeploymentInfo, error) {
	d, err := describe(ctx, c.WorkerDeploymentClient().GetHandle(deployment), deployment)
	return d.Info, err
}

func describe(ctx context.Context, h client.WorkerDeploymentHandle, deployment string) (client.WorkerDeploymentDescribeResponse, error) {
	d, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return d, fmt.Errorf("worker: Temporal knows no deployment %q: it appears when a worker with CERTDESK_WORKER_VERSIONING=true and CERTDESK_WORKER_DEPLOYMENT=%s first polls", deployment, deployment)
	case err != nil:
		return d, fmt.Errorf("worker: describe deployment %q: %w", deployment, err)
	}
	return d, nil
}

// knownBuild describes the deployment and checks a build is one of its
// versions, i.e. its workers have polled: Temporal would refuse to route
// cases to a build without workers anyway, with a less helpful message.
func knownBuild(ctx context.Context, h client.WorkerDeploymentHandle, deployment, buildID string) (client.WorkerDeploymentDescribeResponse, error) {
	d, err := describe(ctx, h, deployment)
	if err != nil || buildID == "" {
		return d, err
	}
	var builds []string
	for _, v := range d.Info.VersionSummaries {
		if v.Version.BuildID == buildID {
			return d, nil
		}
		builds = append(builds, v.Version.BuildID)
	}
	return d, fmt.Errorf("worker: deployment %q has no build %q: start its workers first (CERTDESK_WORKER_BUILD_ID=%s); its builds: %s",
		deployment, buildID, buildID, strings.Join(builds, ", "))
}

func buildName(buildID string) string {
	if buildID == "" {
		return "unversioned workers"
	}
	return "build " + buildID
}
