package deploy_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/certdesk/certdesk/config"
)

// kubernetesBase is the kustomize base under test.
const kubernetesBase = "kubernetes"

// apiDrain is how long `certdesk api` drains its requests after SIGTERM
// (serveOn in cmd/certdesk/production.go).
const apiDrain = 10 * time.Second

// The checks the base must pass, each a question an operator would ask.
var checks = []struct {
	name string
	run  func(*base) []error
}{
	{"workloads", checkWorkloads},
	{"configuration", checkConfiguration},
	{"probes", checkProbes},
	{"service", checkService},
	{"disruption budgets", checkDisruptionBudgets},
	{"stopping", checkStopping},
	{"security", checkSecurity},
	{"resources", checkResources},
}

// The base decodes strictly into the Kubernetes API types, lists every
// file it has, and gives api, worker and migrate what they need to start,
// be probed, be reached and stop cleanly, without root.
func TestKubernetesBase(t *testing.T) {
	b, err := readBase(kubernetesBase)
	if err != nil {
		t.Error(err)
	}
	if b == nil {
		return
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			for _, err := range c.run(b) {
				t.Error(err)
			}
		})
	}
}

// Each mistake an edit could make is caught: the checks above can fail.
func TestKubernetesChecksCatchMistakes(t *testing.T) {
	tests := []struct {
		name, file, old, new string
		want                 string // in the reported problems
	}{
		{"misspelt field", "worker-deployment.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSecond: 45", `unknown field "terminationGracePeriodSecond"`},
		{"bad quantity", "api-deployment.yaml", "memory: 512Mi", "memory: 512MB", "quantities must match"},
		{"file not listed", "kustomization.yaml", "  - worker-pdb.yaml\n", "", "worker-pdb.yaml is not in kustomization.yaml's resources"},
		{"listed file missing", "kustomization.yaml", "  - worker-pdb.yaml\n", "  - worker-pdb.yaml\n  - ingress.yaml\n", "lists ingress.yaml, which cannot be read"},
		{"example secret applied", "kustomization.yaml", "  - worker-pdb.yaml\n", "  - worker-pdb.yaml\n  - secret.example.yaml\n", "the example secret must never be applied"},
		{"wrong subcommand", "worker-deployment.yaml", `args: ["worker"]`, `args: ["api"]`, "want one Deployment running `certdesk worker`"},
		{"probe on another port", "api-deployment.yaml", "containerPort: 8080", "containerPort: 8081", "CERTDESK_HTTP_ADDR listens on 8080"},
		{"liveness on readiness", "api-deployment.yaml", "livenessProbe:\n            httpGet: {path: /healthz", "livenessProbe:\n            httpGet: {path: /readyz", "livenessProbe asks /readyz, want /healthz"},
		{"worker on loopback", "worker-deployment.yaml", "value: 0.0.0.0:9090", "value: 127.0.0.1:9090", "the kubelet's probes cannot reach it"},
		{"worker HTTP off", "worker-deployment.yaml", "value: 0.0.0.0:9090", "value: \"off\"", "CERTDESK_WORKER_HTTP_ADDR is off"},
		{"grace shorter than the stop timeout", "worker-deployment.yaml", "terminationGracePeriodSeconds: 45", "terminationGracePeriodSeconds: 30", "not longer than CERTDESK_WORKER_STOP_TIMEOUT (30s)"},
		{"stop timeout raised alone", "configmap.yaml", "CERTDESK_WORKER_STOP_TIMEOUT: 30s", "CERTDESK_WORKER_STOP_TIMEOUT: 60s", "not longer than CERTDESK_WORKER_STOP_TIMEOUT (1m0s)"},
		{"api grace shorter than its drain", "api-deployment.yaml", "terminationGracePeriodSeconds: 30", "terminationGracePeriodSeconds: 12", "the api's drain"},
		{"root", "api-deployment.yaml", "runAsUser: 65532", "runAsUser: 0", "runs as root"},
		{"writable root filesystem", "migrate-job.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "root filesystem is not read-only"},
		{"privilege escalation", "worker-deployment.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "may escalate privileges"},
		{"PDB selects nothing", "worker-pdb.yaml", "    matchLabels:\n      app.kubernetes.io/name: certdesk\n      app.kubernetes.io/component: worker", "    matchLabels:\n      app.kubernetes.io/name: certdesk\n      app.kubernetes.io/component: workers", "selects 0 Deployments"},
		{"PDB blocks drains", "api-pdb.yaml", "maxUnavailable: 1", "minAvailable: 2", "allows 0 of 2 pods to be evicted"},
		{"Service selects the workers", "api-service.yaml", "  selector:\n    app.kubernetes.io/name: certdesk\n    app.kubernetes.io/component: api", "  selector:\n    app.kubernetes.io/name: certdesk\n    app.kubernetes.io/component: worker", "does not select the api pods"},
		{"Service targets another port", "api-service.yaml", "targetPort: http", "targetPort: 9090", "targets 9090"},
		{"secret in the ConfigMap", "configmap.yaml", "  TEMPORAL_NAMESPACE: default\n", "  TEMPORAL_NAMESPACE: default\n  SENDGRID_API_KEY: SG.oops\n", "SENDGRID_API_KEY is a secret, but comes from ConfigMap certdesk"},
		{"required secret dropped", "worker-deployment.yaml", "            - name: CERTDESK_PAYLOAD_KEYS\n              valueFrom:\n                secretKeyRef: {name: certdesk, key: CERTDESK_PAYLOAD_KEYS}\n", "", "CERTDESK_PAYLOAD_KEYS is required"},
		{"key the Secret does not have", "api-deployment.yaml", "key: CERTDESK_OIDC_CLIENT_SECRET}", "key: OIDC_CLIENT_SECRET}", "reads key OIDC_CLIENT_SECRET of Secret certdesk, which secret.example.yaml does not show"},
		{"template id missing", "configmap.yaml", "  SENDGRID_TEMPLATE_CASE_FAILED: \"\"\n", "", "missing: SENDGRID_TEMPLATE_CASE_FAILED"},
		{"misspelt variable", "configmap.yaml", "  CERTDESK_PUBLIC_URL: \"\"\n", "  CERTDESK_PUBLIC_URI: \"\"\n", "CERTDESK_PUBLIC_URI (from ConfigMap certdesk) is not a variable certdesk reads"},
		{"a made-up public URL", "configmap.yaml", "  CERTDESK_PUBLIC_URL: \"\"\n", "  CERTDESK_PUBLIC_URL: https://certdesk.example.com\n", "the base sets CERTDESK_PUBLIC_URL"},
		{"no memory limit", "worker-deployment.yaml", "              memory: 1Gi\n", "", "no memory limit"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := copyBase(kubernetesBase, dir, tc.file, tc.old, tc.new); err != nil {
				t.Fatal(err)
			}
			var problems []string
			b, err := readBase(dir)
			if err != nil {
				problems = append(problems, err.Error())
			}
			if b != nil {
				for _, c := range checks {
					for _, err := range c.run(b) {
						problems = append(problems, err.Error())
					}
				}
			}
			all := strings.Join(problems, "\n")
			if !strings.Contains(all, tc.want) {
				t.Errorf("the edit was not caught as %q; the checks said:\n%s", tc.want, all)
			}
		})
	}
}

// workload is a pod template the base runs, by the certdesk command its
// container runs.
type workload struct {
	what     string // "Deployment certdesk-api"
	role     string // api, worker, migrate or temporal (setup)
	pod      corev1.PodTemplateSpec
	replicas int32
}

func (w workload) container() corev1.Container { return w.pod.Spec.Containers[0] }

// workloads lists the base's pods; a pod that is not one certdesk
// container running a known command is reported.
func (b *base) workloads() ([]workload, []error) {
	var ws []workload
	for _, d := range b.deployments {
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		ws = append(ws, workload{what: "Deployment " + d.Name, pod: d.Spec.Template, replicas: replicas})
	}
	for _, j := range b.jobs {
		ws = append(ws, workload{what: "Job " + j.Name, pod: j.Spec.Template, replicas: 1})
	}
	var errs []error
	out := ws[:0]
	for _, w := range ws {
		cs := w.pod.Spec.Containers
		switch {
		case len(cs) != 1 || len(w.pod.Spec.InitContainers) > 0:
			errs = append(errs, fmt.Errorf("%s: %d containers: certdesk's pods run one", w.what, len(cs)+len(w.pod.Spec.InitContainers)))
			continue
		case len(cs[0].Command) > 0:
			errs = append(errs, fmt.Errorf("%s: sets command %v: the image's entrypoint is certdesk; name the subcommand in args", w.what, cs[0].Command))
			continue
		case len(cs[0].Args) == 0 || !slices.Contains([]string{"api", "worker", "migrate", "temporal"}, cs[0].Args[0]):
			errs = append(errs, fmt.Errorf("%s: args %v: want api, worker, migrate or temporal setup", w.what, cs[0].Args))
			continue
		case cs[0].Args[0] == "temporal" && (len(cs[0].Args) < 2 || cs[0].Args[1] != "setup"):
			errs = append(errs, fmt.Errorf("%s: args %v: want temporal setup", w.what, cs[0].Args))
			continue
		}
		w.role = cs[0].Args[0]
		out = append(out, w)
	}
	return out, errs
}

func (b *base) workload(role string) (workload, bool) {
	ws, _ := b.workloads()
	for _, w := range ws {
		if w.role == role {
			return w, true
		}
	}
	return workload{}, false
}

// configOf is what certdesk's loader makes of a workload's environment
// once an overlay has set what the base leaves empty.
func (b *base) configOf(w workload) (config.Config, error) {
	e, errs := b.envOf(w.container(), placeholders)
	if len(errs) > 0 {
		return config.Config{}, errors.Join(errs...)
	}
	return load(w.role, e.filled())
}
