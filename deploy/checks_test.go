package deploy_test

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
)

func checkWorkloads(b *base) []error {
	ws, errs := b.workloads()
	count := map[string]int{}
	images := map[string]bool{}
	for _, w := range ws {
		kind, _, _ := strings.Cut(w.what, " ")
		count[kind+" "+w.role]++
		images[w.container().Image] = true
	}
	for _, want := range []string{"Deployment api", "Deployment worker", "Job migrate", "Job temporal"} {
		if count[want] != 1 {
			kind, role, _ := strings.Cut(want, " ")
			errs = append(errs, fmt.Errorf("%d %ss run `certdesk %s`, want one %s running `certdesk %s`", count[want], kind, role, kind, role))
		}
	}
	if len(images) > 1 {
		errs = append(errs, fmt.Errorf("the containers run different images %v: one `images:` entry should set them all", images))
	}
	for _, d := range b.deployments {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		switch {
		case err != nil || sel.Empty():
			errs = append(errs, fmt.Errorf("Deployment %s: selector %v: %v", d.Name, d.Spec.Selector, err))
			continue
		case !sel.Matches(labels.Set(d.Spec.Template.Labels)):
			errs = append(errs, fmt.Errorf("Deployment %s: its selector does not match its own pods (the API server refuses it)", d.Name))
		}
		for _, w := range ws {
			if w.what != "Deployment "+d.Name && sel.Matches(labels.Set(w.pod.Labels)) {
				errs = append(errs, fmt.Errorf("Deployment %s: its selector also matches the pods of %s", d.Name, w.what))
			}
		}
		if d.Spec.Replicas != nil && *d.Spec.Replicas < 2 {
			errs = append(errs, fmt.Errorf("Deployment %s: %d replica: a node drain or a rollout leaves none", d.Name, *d.Spec.Replicas))
		}
		for _, tsc := range d.Spec.Template.Spec.TopologySpreadConstraints {
			if s, err := metav1.LabelSelectorAsSelector(tsc.LabelSelector); err != nil || !s.Matches(labels.Set(d.Spec.Template.Labels)) {
				errs = append(errs, fmt.Errorf("Deployment %s: a topology spread constraint does not count its own pods", d.Name))
			}
		}
	}
	for _, j := range b.jobs {
		if p := j.Spec.Template.Spec.RestartPolicy; p != corev1.RestartPolicyNever && p != corev1.RestartPolicyOnFailure {
			errs = append(errs, fmt.Errorf("Job %s: restartPolicy %q: a Job's pods restart Never or OnFailure", j.Name, p))
		}
	}
	return errs
}

// checkConfiguration hands each container's environment to certdesk's
// configuration loader, as the docker-compose test does with its file.
func checkConfiguration(b *base) []error {
	var errs []error
	ws, _ := b.workloads()
	cfgs := map[string]config.Config{}
	for _, w := range ws {
		e, envErrs := b.envOf(w.container(), placeholders)
		for _, err := range envErrs {
			errs = append(errs, fmt.Errorf("%s: %w", w.what, err))
		}
		cfg, err := load(w.role, e.filled())
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: `certdesk %s` refuses its environment:\n%w", w.what, w.role, err))
			continue
		}
		cfgs[w.role] = cfg
		if w.role == "temporal" {
			continue // Temporal's address and namespace only
		}
		if w.role == "migrate" {
			if !cfg.IsPostgres() {
				errs = append(errs, fmt.Errorf("%s: migrates %q, not PostgreSQL", w.what, cfg.DatabaseURL))
			}
			continue
		}
		if w.role == "worker" {
			for _, k := range mail.Kinds {
				if v := config.TemplateVariablePrefix + strings.ToUpper(k.Kind); e.sources[v] == "" {
					errs = append(errs, fmt.Errorf("%s: the environment does not carry %s", w.what, v))
				}
			}
		}
		// What the base leaves to an overlay stays empty: a made-up value
		// would start a desk that mails links to the wrong host.
		for k, source := range e.sources {
			if _, ok := operatorValue(k); ok && strings.TrimSpace(e.values[k]) != "" {
				errs = append(errs, fmt.Errorf("%s: the base sets %s (in %s): leave it empty for the overlay, so a desk without one refuses to start", w.what, k, source))
			}
		}
		if _, err := load(w.role, e.values); err == nil || !strings.Contains(err.Error(), "CERTDESK_PUBLIC_URL is required") {
			errs = append(errs, fmt.Errorf("%s: as shipped, `certdesk %s` should refuse to start for want of CERTDESK_PUBLIC_URL; it says: %v", w.what, w.role, err))
		}
		// Whoever applies secret.example.yaml unchanged gets a refusal, not
		// a desk signing sessions with a published secret.
		ex, _ := b.envOf(w.container(), b.exampleValues)
		_, err = load(w.role, ex.filled())
		for _, v := range []string{"CERTDESK_SECRET", "CERTDESK_PAYLOAD_KEYS"} {
			if err == nil || !strings.Contains(err.Error(), v) {
				errs = append(errs, fmt.Errorf("%s: with %s's values, `certdesk %s` should refuse %s; it says: %v", w.what, exampleSecret, w.role, v, err))
			}
		}
	}
	api, worker := cfgs["api"], cfgs["worker"]
	if _, ok := cfgs["api"]; ok {
		if _, ok := cfgs["worker"]; ok {
			if api.TaskQueue != worker.TaskQueue || api.Temporal.Address != worker.Temporal.Address || api.Temporal.Namespace != worker.Temporal.Namespace {
				errs = append(errs, fmt.Errorf("api and worker disagree on Temporal: %s/%s/%s against %s/%s/%s",
					api.Temporal.Address, api.Temporal.Namespace, api.TaskQueue, worker.Temporal.Address, worker.Temporal.Namespace, worker.TaskQueue))
			}
			if api.PayloadKeys != worker.PayloadKeys || api.DatabaseURL != worker.DatabaseURL || api.Secret != worker.Secret {
				errs = append(errs, errors.New("api and worker read their database URL, secret or payload keys from different Secret keys: each must read the other's payloads"))
			}
		}
	}
	return errs
}

// listenPort is the port of an address certdesk listens on, which must
// be every interface: the kubelet's probes and the Service come from
// outside the pod's loopback.
func listenPort(variable, addr string) (int32, error) {
	if addr == "" {
		return 0, fmt.Errorf("%s is off: the kubelet's probes have nothing to ask", variable)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, fmt.Errorf("%s: %q: %w", variable, addr, err)
	}
	if host != "" && host != "0.0.0.0" && host != "::" {
		return 0, fmt.Errorf("%s=%s listens on %s only: the kubelet's probes cannot reach it (use 0.0.0.0)", variable, addr, host)
	}
	n, err := strconv.ParseInt(port, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%s: %q: port is not a number", variable, addr)
	}
	return int32(n), nil
}

// errRefused marks a configuration the loader refuses: checkConfiguration
// reports it, the other checks skip what depends on it.
var errRefused = errors.New("the configuration loader refuses the environment")

// servingPort is where a workload's certdesk serves HTTP, by its own
// configuration.
func (b *base) servingPort(w workload) (string, int32, error) {
	cfg, err := b.configOf(w)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", errRefused, err)
	}
	if w.role == "api" {
		p, err := listenPort("CERTDESK_HTTP_ADDR", cfg.HTTPAddr)
		return "CERTDESK_HTTP_ADDR", p, err
	}
	p, err := listenPort("CERTDESK_WORKER_HTTP_ADDR", cfg.WorkerHTTPAddr)
	return "CERTDESK_WORKER_HTTP_ADDR", p, err
}

// resolvePort is the container port a probe or a Service's targetPort
// names.
func resolvePort(c corev1.Container, p intstr.IntOrString) (int32, bool) {
	if p.Type == intstr.Int {
		return p.IntVal, true
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort, true
		}
	}
	return 0, false
}

func checkProbes(b *base) []error {
	var errs []error
	ws, _ := b.workloads()
	for _, w := range ws {
		if w.role == "migrate" || w.role == "temporal" {
			continue
		}
		variable, port, err := b.servingPort(w)
		if err != nil {
			if !errors.Is(err, errRefused) {
				errs = append(errs, fmt.Errorf("%s: %w", w.what, err))
			}
			continue
		}
		c := w.container()
		probes := []struct {
			name  string
			probe *corev1.Probe
			path  string
		}{{"startupProbe", c.StartupProbe, "/healthz"}, {"livenessProbe", c.LivenessProbe, "/healthz"}, {"readinessProbe", c.ReadinessProbe, "/readyz"}}
		for _, p := range probes {
			switch {
			case p.probe == nil || p.probe.HTTPGet == nil:
				errs = append(errs, fmt.Errorf("%s: no HTTP %s (%s)", w.what, p.name, p.path))
				continue
			case p.probe.HTTPGet.Path != p.path:
				errs = append(errs, fmt.Errorf("%s: its %s asks %s, want %s", w.what, p.name, p.probe.HTTPGet.Path, p.path))
			case p.probe.HTTPGet.Host != "" || (p.probe.HTTPGet.Scheme != "" && p.probe.HTTPGet.Scheme != corev1.URISchemeHTTP):
				errs = append(errs, fmt.Errorf("%s: its %s asks %s://%s: certdesk serves plain HTTP on the pod's address", w.what, p.name, p.probe.HTTPGet.Scheme, p.probe.HTTPGet.Host))
			}
			if got, ok := resolvePort(c, p.probe.HTTPGet.Port); !ok || got != port {
				errs = append(errs, fmt.Errorf("%s: its %s asks port %s (%d), but %s listens on %d", w.what, p.name, p.probe.HTTPGet.Port.String(), got, variable, port))
			}
		}
		if a, ok := w.pod.Annotations["prometheus.io/port"]; ok && a != strconv.Itoa(int(port)) {
			errs = append(errs, fmt.Errorf("%s: Prometheus scrapes port %s, but %s listens on %d", w.what, a, variable, port))
		}
	}
	return errs
}

func checkService(b *base) []error {
	api, ok := b.workload("api")
	if !ok {
		return nil // checkWorkloads reports it
	}
	if len(b.services) != 1 {
		return []error{fmt.Errorf("%d Services, want one for the api", len(b.services))}
	}
	svc := b.services[0]
	var errs []error
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	if len(svc.Spec.Selector) == 0 || !sel.Matches(labels.Set(api.pod.Labels)) {
		errs = append(errs, fmt.Errorf("Service %s: selector %v does not select the api pods (%v)", svc.Name, svc.Spec.Selector, api.pod.Labels))
	}
	ws, _ := b.workloads()
	for _, w := range ws {
		if w.role != "api" && len(svc.Spec.Selector) > 0 && sel.Matches(labels.Set(w.pod.Labels)) {
			errs = append(errs, fmt.Errorf("Service %s: also selects the pods of %s", svc.Name, w.what))
		}
	}
	_, port, err := b.servingPort(api)
	if err != nil {
		return errs // checkProbes and checkConfiguration report it
	}
	for _, p := range svc.Spec.Ports {
		if got, ok := resolvePort(api.container(), p.TargetPort); !ok || got != port {
			errs = append(errs, fmt.Errorf("Service %s: port %d targets %s, but the api listens on %d (CERTDESK_HTTP_ADDR)", svc.Name, p.Port, p.TargetPort.String(), port))
		}
	}
	return errs
}

func checkDisruptionBudgets(b *base) []error {
	var errs []error
	covered := map[string]int{}
	for _, pdb := range b.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: selector %v would cover every pod of the namespace: %v", pdb.Name, pdb.Spec.Selector, err))
			continue
		}
		var matched []string
		var replicas int32
		for _, d := range b.deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				matched = append(matched, d.Name)
				replicas = 1
				if d.Spec.Replicas != nil {
					replicas = *d.Spec.Replicas
				}
			}
		}
		if len(matched) != 1 {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: selects %d Deployments %v, want one", pdb.Name, len(matched), matched))
			continue
		}
		covered[matched[0]]++
		var allowed int
		switch {
		case pdb.Spec.MaxUnavailable != nil:
			allowed, err = intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MaxUnavailable, int(replicas), true)
		case pdb.Spec.MinAvailable != nil:
			var min int
			min, err = intstr.GetScaledValueFromIntOrPercent(pdb.Spec.MinAvailable, int(replicas), true)
			allowed = int(replicas) - min
		default:
			err = errors.New("sets neither maxUnavailable nor minAvailable")
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: %w", pdb.Name, err))
		case allowed < 1:
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: allows %d of %d pods to be evicted: a node drain would wait forever", pdb.Name, allowed, replicas))
		case allowed >= int(replicas):
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s: allows all %d pods to be evicted at once", pdb.Name, replicas))
		}
	}
	for _, d := range b.deployments {
		if covered[d.Name] != 1 {
			errs = append(errs, fmt.Errorf("Deployment %s: covered by %d PodDisruptionBudgets, want one", d.Name, covered[d.Name]))
		}
	}
	return errs
}

// checkStopping: the kubelet waits longer than certdesk takes to stop,
// so it never kills a worker with activities still finishing (an email
// would be sent twice) or an api still answering.
func checkStopping(b *base) []error {
	var errs []error
	grace := func(w workload) time.Duration {
		if g := w.pod.Spec.TerminationGracePeriodSeconds; g != nil {
			return time.Duration(*g) * time.Second
		}
		return 30 * time.Second // the Kubernetes default
	}
	if w, ok := b.workload("worker"); ok {
		if cfg, err := b.configOf(w); err == nil && grace(w) <= cfg.WorkerStopTimeout {
			errs = append(errs, fmt.Errorf("%s: terminationGracePeriodSeconds %s is not longer than CERTDESK_WORKER_STOP_TIMEOUT (%s): the kubelet kills the worker while its activities finish",
				w.what, grace(w), cfg.WorkerStopTimeout))
		}
	}
	if w, ok := b.workload("api"); ok {
		var preStop time.Duration
		if l := w.container().Lifecycle; l != nil && l.PreStop != nil && l.PreStop.Sleep != nil {
			preStop = time.Duration(l.PreStop.Sleep.Seconds) * time.Second
		}
		if grace(w) <= preStop+apiDrain {
			errs = append(errs, fmt.Errorf("%s: terminationGracePeriodSeconds %s does not cover its preStop (%s) and the api's drain (%s)", w.what, grace(w), preStop, apiDrain))
		}
	}
	return errs
}

func checkSecurity(b *base) []error {
	var errs []error
	ws, _ := b.workloads()
	for _, w := range ws {
		spec := w.pod.Spec
		if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
			errs = append(errs, fmt.Errorf("%s: mounts a service account token: certdesk never calls the Kubernetes API", w.what))
		}
		if spec.HostNetwork || spec.HostPID || spec.HostIPC {
			errs = append(errs, fmt.Errorf("%s: shares the node's network, PIDs or IPC", w.what))
		}
		psc := spec.SecurityContext
		if psc == nil {
			psc = &corev1.PodSecurityContext{}
		}
		c := w.container()
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		nonRoot, user := psc.RunAsNonRoot, psc.RunAsUser
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			user = sc.RunAsUser
		}
		switch {
		case user != nil && *user == 0:
			errs = append(errs, fmt.Errorf("%s: container %s runs as root (runAsUser 0)", w.what, c.Name))
		case nonRoot == nil || !*nonRoot:
			errs = append(errs, fmt.Errorf("%s: container %s may run as root: set runAsNonRoot", w.what, c.Name))
		case user == nil:
			// The image's USER is a name (distroless's nonroot): the
			// kubelet refuses runAsNonRoot without a numeric id.
			errs = append(errs, fmt.Errorf("%s: container %s has runAsNonRoot but no runAsUser: the kubelet cannot check the image's user name", w.what, c.Name))
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			errs = append(errs, fmt.Errorf("%s: container %s may escalate privileges", w.what, c.Name))
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			errs = append(errs, fmt.Errorf("%s: container %s's root filesystem is not read-only", w.what, c.Name))
		}
		if sc.Privileged != nil && *sc.Privileged {
			errs = append(errs, fmt.Errorf("%s: container %s is privileged", w.what, c.Name))
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
			errs = append(errs, fmt.Errorf("%s: container %s keeps Linux capabilities: drop ALL", w.what, c.Name))
		}
	}
	return errs
}

func checkResources(b *base) []error {
	var errs []error
	ws, _ := b.workloads()
	for _, w := range ws {
		c := w.container()
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			switch {
			case !hasReq || req.IsZero():
				errs = append(errs, fmt.Errorf("%s: container %s has no %s request: the scheduler cannot place it", w.what, c.Name, r))
			case !hasLim || lim.IsZero():
				errs = append(errs, fmt.Errorf("%s: container %s has no %s limit", w.what, c.Name, r))
			case req.Cmp(lim) > 0:
				errs = append(errs, fmt.Errorf("%s: container %s requests more %s (%s) than its limit (%s)", w.what, c.Name, r, req.String(), lim.String()))
			}
		}
	}
	return errs
}
