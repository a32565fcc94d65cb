package certdesk_test

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
)

func TestRecoveryStrength(t *testing.T) {
	tests := []struct {
		evidence string // kinds, space-separated
		want     string
	}{
		{"mcid legal_name", certdesk.StrengthStrong},
		{"legal_name contact_email", certdesk.StrengthStrong},
		{"mcid legal_name previous_email contact_email", certdesk.StrengthStrong},
		{"legal_name previous_email", certdesk.StrengthMedium},
		{"mcid previous_email", certdesk.StrengthMedium},
		{"previous_email", certdesk.StrengthWeak},
		{"mcid", certdesk.StrengthWeak},
		{"legal_name", certdesk.StrengthWeak},
		{"", certdesk.StrengthWeak},
	}
	for _, tc := range tests {
		var ev []certdesk.Evidence
		for _, k := range strings.Fields(tc.evidence) {
			ev = append(ev, certdesk.Evidence{Kind: k})
		}
		if got := certdesk.RecoveryStrength(ev); got != tc.want {
			t.Errorf("RecoveryStrength(%s) = %s, want %s", tc.evidence, got, tc.want)
		}
	}
}
