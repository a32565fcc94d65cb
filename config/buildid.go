package config

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
)

// The limits Temporal puts on a deployment name and a build id (v1.32:
// half of limit.maxIDLength, 1000, less the version workflow's prefix).
const maxVersionField = (1000 - 39) / 2

// DefaultBuildID is the build id of this binary when CERTDESK_WORKER_BUILD_ID
// is not set: the commit it was built from when the tree was clean, else
// the module version it was installed at (go install …@v1.2.3), else a
// digest of the executable itself. Two builds of different code never share
// it (a dirty tree's commit would: its digest is used instead); the same
// code built twice may get two ids, which costs only a version to drain.
func DefaultBuildID() (string, error) {
	buildIDOnce.Do(func() { buildID, buildIDErr = defaultBuildID() })
	return buildID, buildIDErr
}

var (
	buildIDOnce sync.Once
	buildID     string
	buildIDErr  error
)

func defaultBuildID() (string, error) {
	if bi, ok := debug.ReadBuildInfo(); ok {
		if id := buildInfoID(bi); id != "" {
			return id, nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", exe, err)
	}
	return "sha256-" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// buildInfoID is the build id the build info vouches for, or "".
func buildInfoID(bi *debug.BuildInfo) string {
	var rev string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	switch v := bi.Main.Version; {
	case rev != "" && !modified:
		return "git-" + rev[:min(12, len(rev))]
	case rev == "" && v != "" && v != "(devel)" && !strings.Contains(v, "+dirty"):
		return v
	}
	return ""
}

// checkVersionField reports what Temporal would refuse in a deployment
// name or a build id.
func checkVersionField(variable, v string, deployment bool) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is empty", variable)
	case len(v) > maxVersionField:
		return fmt.Errorf("%s is %d characters long: Temporal takes at most %d", variable, len(v), maxVersionField)
	case strings.HasPrefix(v, "__"):
		return fmt.Errorf("%s: %q starts with __, which Temporal reserves", variable, v)
	case deployment && strings.ContainsAny(v, ".:"):
		return fmt.Errorf("%s: %q contains . or :, which a Temporal deployment name may not (set CERTDESK_WORKER_DEPLOYMENT to a name without them)", variable, v)
	case strings.ContainsAny(v, " \t\r\n"):
		return fmt.Errorf("%s: %q contains white space", variable, v)
	}
	return nil
}
