// Package deploy holds certdesk's deployment files (kubernetes/, a
// kustomize base); its tests check them against the Kubernetes API types
// and against certdesk's own configuration loader, without a cluster.
package deploy
