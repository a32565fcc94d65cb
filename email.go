package certdesk

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Email addresses have one canonical form, the one they are compared,
// stored, rate-limited and matched in: trimmed, with ASCII letters
// lower-cased and nothing else changed. Unicode's own lower-casing and
// folding are never applied, because they merge different addresses: the
// KELVIN SIGN "K" (U+212A) lower-cases to the letter k, so
// "ben.o\u212Aafor@…" would become Ben's address. Instead an address whose
// Unicode case folding or NFKC form differs from it, or that mixes scripts
// (a Cyrillic "а" among Latin letters), is refused where it enters.

// NormalizeEmail returns an address in its canonical form: trimmed, ASCII
// letters lower-cased. It never merges two addresses that differ in a
// non-ASCII character. Use ParseEmail where an address enters certdesk.
func NormalizeEmail(s string) string {
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			return asciiLower(s)
		}
	}
	return s
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// MaxEmailLen bounds an address (RFC 5321's path limit).
const MaxEmailLen = 254

// ParseEmail checks an address that enters certdesk (a form, a token's
// claim, an API body) and returns its canonical form. It refuses, with a
// message the sender can act on, anything but a plain address (no display
// name, a dot in the domain), and any address that Unicode would read as
// another: one whose case folding or NFKC normalization changes it, or
// that mixes scripts.
func ParseEmail(s string) (string, error) {
	e := NormalizeEmail(s)
	switch {
	case e == "":
		return "", Errorf(EINVALID, "an email address is needed")
	case len(e) > MaxEmailLen || !utf8.ValidString(e):
		return "", Errorf(EINVALID, "this is not an email address")
	}
	a, err := mail.ParseAddress(e)
	at := strings.LastIndexByte(e, '@')
	if err != nil || a.Address != e || strings.ContainsAny(e, " <>\"") || at < 1 || !strings.Contains(e[at:], ".") ||
		strings.HasSuffix(e, ".") {
		return "", Errorf(EINVALID, "this is not an email address; write it as name@example.com")
	}
	if !PlainEmail(e) {
		return "", Errorf(EINVALID, "this address contains characters that can stand for others (look-alike letters, "+
			"mixed alphabets or compatibility forms); write it exactly as your mail provider shows it, in lower case")
	}
	return e, nil
}

// PlainEmail reports whether a canonical address means only itself:
// Unicode case folding and NFKC leave it as it is, and its letters come
// from one script (or one of the combinations a language writes together,
// such as Han with Hiragana and Katakana). Every ASCII address is plain.
func PlainEmail(e string) bool {
	ascii := true
	for i := 0; i < len(e); i++ {
		if e[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return true
	}
	for _, r := range e {
		// Beyond ASCII only letters, digits and their marks: no invisible
		// formatting, no foreign spaces, dots or symbols.
		if r >= utf8.RuneSelf && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
			return false
		}
	}
	if !norm.NFKC.IsNormalString(e) || cases.Fold().String(e) != e {
		return false
	}
	return singleScript(e)
}

// scriptSets are the scripts one address may mix: the "highly
// restrictive" profile of Unicode's security mechanisms (UTS #39).
var scriptSets = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

func singleScript(s string) bool {
	seen := map[string]bool{}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			continue
		}
		if sc := scriptOf(r); sc != "" {
			seen[sc] = true
		}
	}
	if len(seen) <= 1 {
		return true
	}
	for _, set := range scriptSets {
		all := true
		for sc := range seen {
			all = all && contains(set, sc)
		}
		if all {
			return true
		}
	}
	return false
}

// scriptOf names the script of a letter or digit ("" for Common and
// Inherited characters, which go with any script).
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	for name, table := range unicode.Scripts {
		if name == "Common" || name == "Inherited" {
			continue
		}
		if unicode.Is(table, r) {
			return name
		}
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// MailboxKey is the mailbox an address delivers to, for limits that count
// per inbox: the canonical address without a "+tag" in its local part
// (name+anything@example.com reaches name@example.com at every common
// provider).
func MailboxKey(e string) string {
	e = NormalizeEmail(e)
	at := strings.LastIndexByte(e, '@')
	if at < 0 {
		return e
	}
	local, domain := e[:at], e[at:]
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + domain
}
