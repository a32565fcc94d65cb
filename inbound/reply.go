package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/certdesk/certdesk"
)

// A reply address is reply+<token>@<domain>. The token is the case id (26
// characters) then two MACs of 80 bits each, in lower-case base32 (mail
// systems may lower-case a local part, so nothing may depend on case):
//
//   - the case's MAC proves certdesk made an address for this case: no one
//     can write to a case whose address they never received;
//   - the recipient's MAC binds the address to the person it was sent to,
//     so a message from anyone else (a forward, a colleague in copy) is
//     recognised and held for an agent instead of speaking for the learner.
//
// The local part is 6+26+16+16 = 64 characters, RFC 5321's limit. 80 bits
// cannot be found by trying: every guess is an email that SendGrid posts.
const (
	replyPrefix = "reply+"
	idLen       = 26
	macBytes    = 10
	macLen      = macBytes * 8 / 5 // base32 characters
	tokenLen    = idLen + 2*macLen
	// MinKeyLen is the shortest key ReplyAddresses accept.
	MinKeyLen = 32
)

// tokenEncoding is Crockford's alphabet lower-cased, as case ids use it.
var tokenEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// The errors of Parse and Find.
var (
	// ErrNoReplyAddress: the address is not a reply address of the domain
	// (another domain, another local part, such as the support address).
	ErrNoReplyAddress = errors.New("inbound: not a reply address")
	// ErrBadToken: a reply address of the domain whose token certdesk did
	// not make (forged, truncated, altered, or signed with a retired key).
	ErrBadToken = errors.New("inbound: reply address not valid")
)

// ReplyAddresses makes and reads the reply addresses of cases.
type ReplyAddresses struct {
	// Key signs new addresses (at least MinKeyLen bytes, secret).
	Key []byte
	// Old are retired keys whose addresses are still read: learners answer
	// old emails long after a key has been rotated.
	Old [][]byte
	// Domain is the inbound domain, the one whose MX record points to
	// SendGrid.
	Domain string
}

// Validate reports a configuration that cannot make safe addresses.
func (a ReplyAddresses) Validate() error {
	if len(a.Key) < MinKeyLen {
		return fmt.Errorf("inbound: the reply address key needs at least %d bytes", MinKeyLen)
	}
	for _, k := range a.Old {
		if len(k) < MinKeyLen {
			return fmt.Errorf("inbound: a retired reply address key has fewer than %d bytes", MinKeyLen)
		}
	}
	d := a.domain()
	if d == "" || !strings.Contains(d, ".") || strings.ContainsAny(d, "@ <>\"") {
		return fmt.Errorf("inbound: %q is not a domain for reply addresses", a.Domain)
	}
	return nil
}

// For returns the reply address of a case for one recipient, or "" when
// the addresses are not configured (no key or no domain) or caseID is not
// a case id.
func (a ReplyAddresses) For(caseID, recipient string) string {
	if len(a.Key) == 0 || a.domain() == "" || !certdesk.ValidID(caseID) {
		return ""
	}
	return replyPrefix + caseID + caseMAC(a.Key, caseID) + recipientMAC(a.Key, caseID, recipient) + "@" + a.domain()
}

// Parse reads a reply address, bare or with a display name ("Support"
// <reply+…@domain>), in any letter case. It returns the case, and whether
// sender is the recipient the address was made for. The errors are
// ErrNoReplyAddress and ErrBadToken.
func (a ReplyAddresses) Parse(addr, sender string) (caseID string, fromRecipient bool, err error) {
	addr = strings.TrimSpace(addr)
	if p, perr := mail.ParseAddress(addr); perr == nil {
		addr = p.Address
	}
	addr = strings.ToLower(addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || a.domain() == "" || strings.TrimSuffix(addr[at+1:], ".") != a.domain() ||
		!strings.HasPrefix(addr, replyPrefix) {
		return "", false, ErrNoReplyAddress
	}
	token := addr[len(replyPrefix):at]
	if len(token) != tokenLen || !certdesk.ValidID(token[:idLen]) {
		return "", false, ErrBadToken
	}
	caseID, cmac, rmac := token[:idLen], token[idLen:idLen+macLen], token[idLen+macLen:]
	for _, key := range append([][]byte{a.Key}, a.Old...) {
		if len(key) == 0 || !hmac.Equal([]byte(cmac), []byte(caseMAC(key, caseID))) {
			continue
		}
		return caseID, hmac.Equal([]byte(rmac), []byte(recipientMAC(key, caseID, sender))), nil
	}
	return "", false, ErrBadToken
}

// Find looks for a reply address among the message's recipients and reads
// it for the message's sender. A message to several reply addresses
// belongs to the first valid one. ErrBadToken when only forged ones were
// found, ErrNoReplyAddress when there was none.
func (a ReplyAddresses) Find(m Message) (caseID string, fromRecipient bool, err error) {
	err = ErrNoReplyAddress
	for _, to := range m.To {
		id, ok, perr := a.Parse(to, m.From)
		switch {
		case perr == nil:
			return id, ok, nil
		case errors.Is(perr, ErrBadToken):
			err = perr
		}
	}
	return "", false, err
}

func (a ReplyAddresses) domain() string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a.Domain)), ".")
}

// The MACs are domain-separated: a case's MAC is never a recipient's.
func caseMAC(key []byte, caseID string) string {
	return mac(key, "certdesk reply v1 case\x00"+caseID)
}

func recipientMAC(key []byte, caseID, recipient string) string {
	return mac(key, "certdesk reply v1 recipient\x00"+caseID+"\x00"+certdesk.NormalizeEmail(bareAddress(recipient)))
}

func mac(key []byte, msg string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return tokenEncoding.EncodeToString(h.Sum(nil)[:macBytes])
}

// bareAddress is the address of "Name <addr>", or s as it is.
func bareAddress(s string) string {
	if p, err := mail.ParseAddress(s); err == nil {
		return p.Address
	}
	return strings.TrimSpace(s)
}

// AddressesFor returns the reply addresses of an installation: the key is
// derived from its secret (CERTDESK_SECRET), so every API and worker
// process makes and reads the same addresses. Rotating the secret retires
// the addresses already sent; pass the old secret's key in Old to keep
// reading them.
func AddressesFor(secret, domain string) ReplyAddresses {
	return ReplyAddresses{Key: DeriveKey(secret), Domain: domain}
}

// DeriveKey is the reply-address key of a secret.
func DeriveKey(secret string) []byte {
	if secret == "" {
		return nil
	}
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("certdesk reply addresses v1"))
	return h.Sum(nil)
}

// Token is the token of a case's reply address for a recipient, without
// the domain: the portal's link to the case in that recipient's emails
// carries it, so a learner who cannot sign in (a recovery) reaches their
// case with the same proof a reply by email gives. "" without a key.
func (a ReplyAddresses) Token(caseID, recipient string) string {
	if len(a.Key) == 0 || !certdesk.ValidID(caseID) {
		return ""
	}
	return caseID + caseMAC(a.Key, caseID) + recipientMAC(a.Key, caseID, recipient)
}

// CheckToken reports whether token is the token of caseID for recipient
// (under the key or a retired one).
func (a ReplyAddresses) CheckToken(token, caseID, recipient string) bool {
	token = strings.ToLower(strings.TrimSpace(token))
	if len(token) != tokenLen || token[:idLen] != caseID {
		return false
	}
	for _, key := range append([][]byte{a.Key}, a.Old...) {
		if len(key) > 0 && hmac.Equal([]byte(token), []byte(caseID+caseMAC(key, caseID)+recipientMAC(key, caseID, recipient))) {
			return true
		}
	}
	return false
}
