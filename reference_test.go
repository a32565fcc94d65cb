package certdesk_test

import (
	"testing"

	"github.com/certdesk/certdesk"
)

func TestReference(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"01jd8k3m4n5p6q7r8s9t04f7k2", "CD-4F7K2"},
		{"abc", "CD-ABC"},
	} {
		if got := certdesk.Reference(tc.id); got != tc.want {
			t.Errorf("Reference(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
	if r := certdesk.Reference(certdesk.NewID()); !certdesk.IsReference(r) {
		t.Errorf("Reference of a new id %q is not a reference", r)
	}
}
