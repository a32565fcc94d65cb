package certdesk_test

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
)

// Evidence is rated by what only the owner knows or controls: an MCID and a
// legal name, printed on every shared certificate, are weak however they
// combine.
func TestRecoveryStrength(t *testing.T) {
	tests := []struct {
		evidence string // kinds, space-separated
		flags    string
		want     string
	}{
		{"mcid legal_name", "", certdesk.StrengthWeak},
		{"mcid", "", certdesk.StrengthWeak},
		{"legal_name", "", certdesk.StrengthWeak},
		{"previous_email", "", certdesk.StrengthWeak},
		{"exam", "", certdesk.StrengthWeak},
		{"mcid previous_email", "", certdesk.StrengthWeak},
		{"mcid exam", "", certdesk.StrengthWeak},
		{"", "", certdesk.StrengthWeak},
		{"legal_name previous_email", "", certdesk.StrengthMedium},
		{"mcid legal_name previous_email", "", certdesk.StrengthMedium},
		{"legal_name exam", "", certdesk.StrengthMedium},
		{"mcid legal_name exam", "", certdesk.StrengthMedium},
		{"legal_name contact_email", "", certdesk.StrengthStrong},
		{"mcid legal_name previous_email contact_email", "", certdesk.StrengthStrong},
		{"legal_name previous_email exam", "", certdesk.StrengthStrong},
		{"previous_email exam", "", certdesk.StrengthWeak},
		// A profile recovered lately is never strong.
		{"legal_name contact_email", "recently_recovered", certdesk.StrengthMedium},
		{"legal_name previous_email exam", "recently_recovered", certdesk.StrengthMedium},
		{"legal_name contact_email", "recently_merged recently_connected", certdesk.StrengthStrong},
		{"mcid legal_name", "recently_recovered", certdesk.StrengthWeak},
	}
	for _, tc := range tests {
		var ev []certdesk.Evidence
		for _, k := range strings.Fields(tc.evidence) {
			ev = append(ev, certdesk.Evidence{Kind: k})
		}
		if got := certdesk.RecoveryStrength(ev, strings.Fields(tc.flags)); got != tc.want {
			t.Errorf("RecoveryStrength(%s; %s) = %s, want %s", tc.evidence, tc.flags, got, tc.want)
		}
	}
}
