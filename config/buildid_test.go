package config

import (
	"runtime/debug"
	"testing"
)

// The build id from the build info: a clean tree's commit, a module
// version; never a dirty tree's commit (two different builds would share it).
func TestBuildInfoID(t *testing.T) {
	setting := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	const rev = "3f9c2ab41d07e5a8c0ffee0123456789abcdef01"
	tests := []struct {
		name    string
		version string
		set     []debug.BuildSetting
		want    string
	}{
		{"clean checkout", "v0.0.0-20260301120000-3f9c2ab41d07", setting("vcs.revision", rev, "vcs.modified", "false"), "git-3f9c2ab41d07"},
		{"dirty checkout", "v0.0.0-20260301120000-3f9c2ab41d07+dirty", setting("vcs.revision", rev, "vcs.modified", "true"), ""},
		{"go install at a tag", "v1.4.0", nil, "v1.4.0"},
		{"no version control", "(devel)", nil, ""},
		{"dirty pseudo-version without a revision", "v0.0.0-20260301120000-3f9c2ab41d07+dirty", nil, ""},
	}
	for _, tc := range tests {
		bi := &debug.BuildInfo{Main: debug.Module{Path: "github.com/certdesk/certdesk", Version: tc.version}, Settings: tc.set}
		if got := buildInfoID(bi); got != tc.want {
			t.Errorf("%s: build id %q, want %q", tc.name, got, tc.want)
		}
	}
}
