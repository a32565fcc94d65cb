package certdesk_test

import (
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
)

func TestParseEmailCanonicalForm(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ben.okafor@contoso.example", "ben.okafor@contoso.example"},
		{"  Ben.Okafor@Contoso.EXAMPLE ", "ben.okafor@contoso.example"},
		{"BEN.OKAFOR@HOTMAIL.EXAMPLE", "ben.okafor@hotmail.example"},
		{"dara+certs@proton.example", "dara+certs@proton.example"},
		{"josé@correo.example", "josé@correo.example"}, // one script, already folded
		{"андрей@почта.рф", "андрей@почта.рф"},         // Cyrillic throughout
		{"山田太郎@メール.example", "山田太郎@メール.example"},       // Han with Katakana (and Latin), as Japanese writes
		{"o'brien@example.ie", "o'brien@example.ie"},
	} {
		got, err := certdesk.ParseEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// Every address that Unicode would read as another one is refused: the
// class behind "ben.o\u212Aafor" becoming Ben's address.
func TestParseEmailRefusesLookAlikes(t *testing.T) {
	for _, in := range []string{
		"ben.o\u212Aafor@contoso.example",            // KELVIN SIGN, lower-cases to k
		"ben.okafor@contoso.e\u212Aample",            // KELVIN SIGN in the domain
		"\u212Bngstr\u00f6m@example.se",              // ANGSTROM SIGN, NFKC Å
		"ｂｅｎ@contoso.example",                        // fullwidth letters
		"ben.oka\ufb00or@contoso.example",            // "ff" ligature
		"ben.okafor@contoso.exampl\u0435",            // Cyrillic е among Latin
		"b\u0435n.okafor@contoso.example",            // Cyrillic е in the local part
		"\u0430na.silva@outlook.example",             // Cyrillic а
		"ana.silv\u03b1@outlook.example",             // Greek alpha
		"JOSÉ@correo.example",                        // folds to josé: write it in lower case
		"stra\u00dfe@example.de",                     // ß folds to ss
		"cafe\u0301@example.fr",                      // decomposed é: NFKC composes it
		"ben\u2024okafor@contoso.example",            // ONE DOT LEADER, NFKC "."
		"ben.okafor@contoso\uff0eexample",            // FULLWIDTH FULL STOP
		"\u2160@example.com",                         // ROMAN NUMERAL ONE
		"ben.okafor@\u24b8ontoso.example",            // circled C
		"ana\u200b.silva@outlook.example",            // zero width space
		"ana.silva@outlook.example\u0000",            // NUL
		"андрей@gmail.com",                           // Cyrillic and Latin in one address
		"\u0430\u043d\u0430.silva@outlook.example",   // a whole Cyrillic word among Latin ones
		"\xff\xfe@outlook.example",                   // not UTF-8
		"Ben Okafor <ben.okafor@contoso.example>",    // a display name
		"ben.okafor@contoso",                         // no dot in the domain
		"ben.okafor@contoso.example.",                // trailing dot
		"@contoso.example",                           // no local part
		"ben.okafor",                                 // no domain
		"ben okafor@contoso.example",                 // a space
		"",                                           // nothing
		strings.Repeat("a", 250) + "@example.com",    // too long
		"ben.okafor@contoso.example\r\nbcc:x@y.test", // header injection
	} {
		if got, err := certdesk.ParseEmail(in); err == nil {
			t.Errorf("ParseEmail(%q) = %q, want a refusal", in, got)
		} else if certdesk.ErrorCode(err) != certdesk.EINVALID {
			t.Errorf("ParseEmail(%q): code %q, want invalid", in, certdesk.ErrorCode(err))
		}
	}
}

// NormalizeEmail never merges two addresses that differ in a non-ASCII
// character: a look-alike stored or compared stays itself.
func TestNormalizeEmailOnlyASCII(t *testing.T) {
	if got := certdesk.NormalizeEmail("ben.o\u212Aafor@contoso.example"); got == "ben.okafor@contoso.example" {
		t.Fatalf("NormalizeEmail folded the KELVIN SIGN into Ben's address")
	}
	if got := certdesk.NormalizeEmail(" Ana.SILVA@Outlook.Example "); got != "ana.silva@outlook.example" {
		t.Fatalf("NormalizeEmail = %q", got)
	}
	if got := certdesk.NormalizeEmail("ÉLODIE@example.fr"); got != "Élodie@example.fr" {
		t.Fatalf("NormalizeEmail lower-cased a non-ASCII letter: %q", got)
	}
}

func TestMailboxKey(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"dara@proton.example", "dara@proton.example"},
		{"Dara+1@Proton.example", "dara@proton.example"},
		{"dara+a+b@proton.example", "dara@proton.example"},
		{"+dara@proton.example", "+dara@proton.example"}, // a local part that is only a tag stays
	} {
		if got := certdesk.MailboxKey(tt.in); got != tt.want {
			t.Errorf("MailboxKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
