package inbound_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/inbound"
)

var (
	testKey = bytes.Repeat([]byte("k"), 32)
	addrs   = inbound.ReplyAddresses{Key: testKey, Domain: "in.certdesk.example"}
)

const caseA, caseB = "01hq3v5x7c9d2f4g6h8j0k1m2n", "01hq3v5x7c9d2f4g6h8j0k1m2p"

func TestReplyAddressRoundTrip(t *testing.T) {
	addr := addrs.For(caseA, "Ada@Example.org")
	local, domain, _ := strings.Cut(addr, "@")
	if !strings.HasPrefix(local, "reply+"+caseA) || domain != "in.certdesk.example" {
		t.Fatalf("For = %q", addr)
	}
	if len(local) > 64 {
		t.Errorf("local part has %d characters, more than an email allows", len(local))
	}
	if addrs.For(caseA, "ben@example.org") == addr || addrs.For(caseB, "ada@example.org") == addr {
		t.Error("two cases or two recipients share an address")
	}
	for _, form := range []string{
		addr,
		strings.ToLower(addr),
		strings.ToUpper(addr), // a mail system that upper-cases
		`"Certification Support" <` + addr + `>`,
		"<" + addr + ">",
		"  " + local + "@IN.Certdesk.Example.  ",
	} {
		id, fromRecipient, err := addrs.Parse(form, "ada@example.org")
		if err != nil || id != caseA || !fromRecipient {
			t.Errorf("Parse(%q) = %q, %v, %v; want %s from the recipient", form, id, fromRecipient, err, caseA)
		}
	}
	// The sender as SendGrid gives it: with a name, in another case.
	if _, ok, _ := addrs.Parse(addr, "ADA@example.ORG"); !ok {
		t.Error("the recipient in capitals is not the recipient")
	}
}

func TestReplyAddressRefused(t *testing.T) {
	addr := addrs.For(caseA, "ada@example.org")
	local, _, _ := strings.Cut(addr, "@")
	token := strings.TrimPrefix(local, "reply+")
	flip := func(s string, i int) string {
		c := byte('0')
		if s[i] == '0' {
			c = '1'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	otherCase := addrs.For(caseB, "ada@example.org")
	otherToken := strings.TrimPrefix(strings.Split(otherCase, "@")[0], "reply+")

	tests := []struct {
		name, addr string
		want       error
	}{
		{"other domain", local + "@certdesk.example", inbound.ErrNoReplyAddress},
		{"look-alike domain", local + "@in.certdesk.example.evil.example", inbound.ErrNoReplyAddress},
		{"support address", "support@in.certdesk.example", inbound.ErrNoReplyAddress},
		{"not an address", "reply+", inbound.ErrNoReplyAddress},
		{"truncated", local[:len(local)-1] + "@in.certdesk.example", inbound.ErrBadToken},
		{"extended", local + "0@in.certdesk.example", inbound.ErrBadToken},
		{"case MAC altered", "reply+" + flip(token, 30) + "@in.certdesk.example", inbound.ErrBadToken},
		{"case id altered", "reply+" + flip(token, 20) + "@in.certdesk.example", inbound.ErrBadToken},
		// Another case's id with this case's MACs: one address does not
		// open another case.
		{"other case", "reply+" + otherToken[:26] + token[26:] + "@in.certdesk.example", inbound.ErrBadToken},
		{"made up", "reply+" + caseA + strings.Repeat("0", 32) + "@in.certdesk.example", inbound.ErrBadToken},
		{"other key", inbound.ReplyAddresses{Key: bytes.Repeat([]byte("x"), 32), Domain: "in.certdesk.example"}.For(caseA, "ada@example.org"), inbound.ErrBadToken},
		{"not a case id", "reply+" + strings.Repeat("u", 26) + token[26:] + "@in.certdesk.example", inbound.ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, _, err := addrs.Parse(tt.addr, "ada@example.org")
			if !errors.Is(err, tt.want) || id != "" {
				t.Errorf("Parse(%q) = %q, %v; want %v", tt.addr, id, err, tt.want)
			}
		})
	}
}

func TestReplyAddressOtherRecipient(t *testing.T) {
	addr := addrs.For(caseA, "ada@example.org")
	// A forward, a colleague in copy, a second mailbox: the case is
	// known, the sender is not the learner it was sent to.
	for _, sender := range []string{"ben@example.org", "ada@example.com", "ada+work@example.org", ""} {
		id, fromRecipient, err := addrs.Parse(addr, sender)
		if err != nil || id != caseA || fromRecipient {
			t.Errorf("Parse from %q = %q, %v, %v; want the case, not from the recipient", sender, id, fromRecipient, err)
		}
	}
}

func TestReplyAddressKeyRotation(t *testing.T) {
	oldKey := bytes.Repeat([]byte("o"), 32)
	old := inbound.ReplyAddresses{Key: oldKey, Domain: "in.certdesk.example"}.For(caseA, "ada@example.org")
	rotated := inbound.ReplyAddresses{Key: testKey, Old: [][]byte{oldKey}, Domain: "in.certdesk.example"}
	if id, ok, err := rotated.Parse(old, "ada@example.org"); err != nil || id != caseA || !ok {
		t.Errorf("an address of the retired key: %q, %v, %v", id, ok, err)
	}
	if _, _, err := addrs.Parse(old, "ada@example.org"); !errors.Is(err, inbound.ErrBadToken) {
		t.Errorf("a key no longer listed still reads its addresses: %v", err)
	}
	if got := rotated.For(caseA, "ada@example.org"); got != addrs.For(caseA, "ada@example.org") {
		t.Error("new addresses are not signed with the current key")
	}
}

func TestReplyAddressesNotConfigured(t *testing.T) {
	for _, a := range []inbound.ReplyAddresses{{Domain: "in.certdesk.example"}, {Key: testKey}} {
		if got := a.For(caseA, "ada@example.org"); got != "" {
			t.Errorf("For without key or domain = %q", got)
		}
		if a.Validate() == nil {
			t.Errorf("Validate(%+v) accepted", a)
		}
	}
	if got := addrs.For("not-an-id", "ada@example.org"); got != "" {
		t.Errorf("For of a garbage id = %q", got)
	}
	// Without a key nothing verifies, not even what an empty key signs.
	empty := inbound.ReplyAddresses{Domain: "in.certdesk.example"}
	forged := inbound.ReplyAddresses{Key: []byte{}, Domain: "in.certdesk.example"}
	_ = forged
	if _, _, err := empty.Parse(addrs.For(caseA, "ada@example.org"), "ada@example.org"); !errors.Is(err, inbound.ErrBadToken) {
		t.Errorf("Parse without a key: %v", err)
	}
	if err := addrs.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := (inbound.ReplyAddresses{Key: []byte("short"), Domain: "in.certdesk.example"}).Validate(); err == nil {
		t.Error("a short key is accepted")
	}
}

func TestReplyAddressFind(t *testing.T) {
	id := certdesk.NewID()
	addr := addrs.For(id, "ada@example.org")
	m := inbound.Message{From: "ada@example.org", To: []string{"support@certdesk.example", strings.ToLower(addr)}}
	got, ok, err := addrs.Find(m)
	if err != nil || got != id || !ok {
		t.Errorf("Find = %q, %v, %v", got, ok, err)
	}
	m.To = []string{"support@in.certdesk.example"}
	if _, _, err := addrs.Find(m); !errors.Is(err, inbound.ErrNoReplyAddress) {
		t.Errorf("Find without a reply address: %v", err)
	}
	m.To = []string{"reply+" + id + strings.Repeat("a", 32) + "@in.certdesk.example", "support@in.certdesk.example"}
	if _, _, err := addrs.Find(m); !errors.Is(err, inbound.ErrBadToken) {
		t.Errorf("Find with a forged reply address: %v", err)
	}
}

// The portal's case link carries the reply address's token: it opens the
// case for its recipient only, and for no other case.
func TestCaseToken(t *testing.T) {
	a := inbound.ReplyAddresses{Key: []byte(strings.Repeat("k", 32)), Domain: "reply.example.org"}
	caseID, other := certdesk.NewID(), certdesk.NewID()
	tok := a.Token(caseID, "Dara.M@proton.example")
	if !a.CheckToken(tok, caseID, "dara.m@proton.example") || !a.CheckToken(strings.ToUpper(tok), caseID, "dara.m@proton.example") {
		t.Fatal("the token does not open its case for its recipient")
	}
	for name, ok := range map[string]bool{
		"another recipient": a.CheckToken(tok, caseID, "pat@proton.example"),
		"another case":      a.CheckToken(tok, other, "dara.m@proton.example"),
		"truncated":         a.CheckToken(tok[:len(tok)-1], caseID, "dara.m@proton.example"),
		"altered":           a.CheckToken(tok[:40]+"0"+tok[41:], caseID, "dara.m@proton.example") && tok[40] != '0',
		"another key":       inbound.ReplyAddresses{Key: []byte(strings.Repeat("j", 32))}.CheckToken(tok, caseID, "dara.m@proton.example"),
		"empty":             a.CheckToken("", caseID, "dara.m@proton.example"),
	} {
		if ok {
			t.Errorf("%s: accepted", name)
		}
	}
	if !(inbound.ReplyAddresses{Key: []byte(strings.Repeat("j", 32)), Old: [][]byte{a.Key}}).CheckToken(tok, caseID, "dara.m@proton.example") {
		t.Error("a retired key's token is refused")
	}
}
