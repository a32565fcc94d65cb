package deploy_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// exampleSecret shows the Secret's keys; it is never applied.
const exampleSecret = "secret.example.yaml"

// kustomization is the part of kustomization.yaml these tests understand.
// Anything else (a generator, a patch, a transformer) fails the strict
// decode: the tests would not see what it does to the resources.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
}

// base is a kustomize base as the cluster would get it: every resource
// kustomization.yaml lists, decoded strictly into the Kubernetes API types.
type base struct {
	namespace   string
	deployments []*appsv1.Deployment
	services    []*corev1.Service
	pdbs        []*policyv1.PodDisruptionBudget
	jobs        []*batchv1.Job
	configMaps  []*corev1.ConfigMap
	// secret is secret.example.yaml's: the name and keys the resources
	// refer to.
	secret *corev1.Secret
}

// readBase reads the base in dir. It reports every problem it finds, and
// returns what it could read (an object that does not decode is left out).
func readBase(dir string) (*base, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	var k kustomization
	if err := yaml.UnmarshalStrict(raw, &k); err != nil {
		return nil, fmt.Errorf("kustomization.yaml: %w (these tests read apiVersion, kind, namespace and resources only)", err)
	}
	var errs []error
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		errs = append(errs, fmt.Errorf("kustomization.yaml is %s %s, want kustomize.config.k8s.io/v1beta1 Kustomization", k.APIVersion, k.Kind))
	}
	if k.Namespace == "" {
		errs = append(errs, errors.New("kustomization.yaml sets no namespace: the pods and the Secret they read must meet in one"))
	}
	b := &base{namespace: k.Namespace}
	listed := map[string]bool{}
	for _, r := range k.Resources {
		switch {
		case listed[r]:
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s twice", r))
			continue
		case r == exampleSecret:
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s: the example secret must never be applied", r))
			continue
		case filepath.Base(r) != r:
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s: these tests read this directory's files only", r))
			continue
		}
		listed[r] = true
		data, err := os.ReadFile(filepath.Join(dir, r))
		if err != nil {
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s, which cannot be read: %w", r, err))
			continue
		}
		errs = append(errs, b.decode(r, data, false)...)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return b, err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) ||
			name == "kustomization.yaml" || name == exampleSecret || listed[name] {
			continue
		}
		errs = append(errs, fmt.Errorf("%s is not in kustomization.yaml's resources: `kubectl apply -k` would leave it out", name))
	}
	data, err := os.ReadFile(filepath.Join(dir, exampleSecret))
	if err != nil {
		return b, errors.Join(append(errs, fmt.Errorf("%s: %w (it documents the Secret's keys)", exampleSecret, err))...)
	}
	errs = append(errs, b.decode(exampleSecret, data, true)...)
	if b.secret == nil {
		errs = append(errs, fmt.Errorf("%s holds no Secret", exampleSecret))
	}
	return b, errors.Join(errs...)
}

// documentSeparator splits a multi-document YAML file.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// decode adds every object of a file, each decoded strictly: a misspelt
// or misplaced field fails, as a typed client would refuse it.
func (b *base) decode(file string, data []byte, example bool) []error {
	var errs []error
	for i, doc := range documentSeparator.Split(string(data), -1) {
		var probe map[string]any
		if err := yaml.Unmarshal([]byte(doc), &probe); err != nil {
			errs = append(errs, fmt.Errorf("%s, document %d: %w", file, i+1, err))
			continue
		}
		if len(probe) == 0 {
			continue // comments only
		}
		var tm metav1.TypeMeta
		_ = yaml.Unmarshal([]byte(doc), &tm)
		where := fmt.Sprintf("%s, document %d (%s)", file, i+1, tm.Kind)
		var (
			obj  metav1.Object
			keep func() // adds obj to the base once it decoded
		)
		switch gvk := tm.APIVersion + " " + tm.Kind; {
		case gvk == "apps/v1 Deployment":
			o := &appsv1.Deployment{}
			obj, keep = o, func() { b.deployments = append(b.deployments, o) }
		case gvk == "v1 Service":
			o := &corev1.Service{}
			obj, keep = o, func() { b.services = append(b.services, o) }
		case gvk == "policy/v1 PodDisruptionBudget":
			o := &policyv1.PodDisruptionBudget{}
			obj, keep = o, func() { b.pdbs = append(b.pdbs, o) }
		case gvk == "batch/v1 Job":
			o := &batchv1.Job{}
			obj, keep = o, func() { b.jobs = append(b.jobs, o) }
		case gvk == "v1 ConfigMap":
			o := &corev1.ConfigMap{}
			obj, keep = o, func() { b.configMaps = append(b.configMaps, o) }
		case gvk == "v1 Secret" && example && b.secret == nil:
			o := &corev1.Secret{}
			obj, keep = o, func() { b.secret = o }
		case gvk == "v1 Secret":
			errs = append(errs, fmt.Errorf("%s: a Secret among the resources: secrets are referenced, never committed (%s shows the keys)", where, exampleSecret))
			continue
		default:
			errs = append(errs, fmt.Errorf("%s: %q %q is not a kind these tests check (apps/v1 Deployment, v1 Service, policy/v1 PodDisruptionBudget, batch/v1 Job, v1 ConfigMap)", where, tm.APIVersion, tm.Kind))
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
			continue
		}
		keep()
		errs = append(errs, checkMeta(where, obj)...)
	}
	return errs
}

// checkMeta checks what the API server would refuse in an object's
// metadata, and that the kustomization decides its namespace.
func checkMeta(where string, o metav1.Object) []error {
	var errs []error
	for _, msg := range validation.IsDNS1123Subdomain(o.GetName()) {
		errs = append(errs, fmt.Errorf("%s: name %q: %s", where, o.GetName(), msg))
	}
	if o.GetNamespace() != "" {
		errs = append(errs, fmt.Errorf("%s: sets namespace %q: kustomization.yaml's namespace decides", where, o.GetNamespace()))
	}
	for k, v := range o.GetLabels() {
		for _, msg := range slices.Concat(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)) {
			errs = append(errs, fmt.Errorf("%s: label %s=%s: %s", where, k, v, msg))
		}
	}
	return errs
}

// copyBase copies the base into a new directory, with one edit: how the
// tests see that their checks catch a mistake.
func copyBase(from, to, file, old, new string) error {
	entries, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	found := false
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if e.Name() == file {
			if !bytes.Contains(data, []byte(old)) {
				return fmt.Errorf("%s does not contain %q", file, old)
			}
			data, found = bytes.Replace(data, []byte(old), []byte(new), 1), true
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("no file %s", file)
	}
	return nil
}
