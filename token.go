package certdesk

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// Link tokens: 256 random bits, base64url without padding (43 characters).
// Only the SHA-256 of a token is stored, so a leaked database does not leak
// usable links.

const tokenLen = 43

// NewToken returns a new token and its hash.
func NewToken() (raw, hash string) {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	raw = base64.RawURLEncoding.EncodeToString(b[:])
	return raw, hashToken(raw)
}

// HashToken checks a token's form and returns its hash; ok is false for
// anything that cannot be a token (wrong length or alphabet).
func HashToken(raw string) (hash string, ok bool) {
	if len(raw) != tokenLen {
		return "", false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(raw)
	if err != nil || len(b) != 32 {
		return "", false
	}
	return hashToken(raw), true
}

func hashToken(raw string) string {
	sum := sha256.Sum256([]byte(raw))
	return hex.EncodeToString(sum[:])
}
