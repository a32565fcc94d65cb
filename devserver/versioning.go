package devserver

import "go.temporal.io/server/common/dynamicconfig"

// VersioningConfig is dev mode's dynamic config for Worker Deployments,
// beside LatencyConfig: a build that is no longer current shows drained
// seconds after its last pinned workflow closes, not minutes. A version
// counts its open pinned workflows in visibility; the server waits a grace
// period (default 3 min) for visibility to catch up before the first
// count and then counts every 3 min. The embedded server's visibility is
// the same SQLite file, current within milliseconds. A cluster keeps the
// defaults (its visibility may lag): drainage there takes minutes.
func VersioningConfig() map[string]any {
	return map[string]any{
		dynamicconfig.VersionDrainageStatusVisibilityGracePeriod.Key().String(): "2s",
		dynamicconfig.VersionDrainageStatusRefreshInterval.Key().String():       "2s",
	}
}
