package certdesk

import (
	"crypto/rand"
	"encoding/binary"
	"time"
)

// crockford is Crockford's base32 alphabet, lower-cased: no i, l, o, u.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a 26-character identifier: 48 bits of milliseconds then 80
// random bits, so ids sort by creation time (keyset pagination relies on it)
// and cannot be guessed.
func NewID() string { return IDAt(time.Now()) }

// IDAt is a new id made at t: ids made later sort after it (bulk loads of
// past cases use it).
func IDAt(t time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(t.UnixMilli())<<16)
	_, _ = rand.Read(b[6:]) // crypto/rand never fails on supported platforms
	return IDFromBytes(b)
}

// IDFromBytes encodes 16 bytes as an id; the first 6 should be a
// millisecond time for ids to sort by creation.
func IDFromBytes(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	// 128 bits in 26 base32 digits: the first digit carries 3 bits.
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ValidID reports whether s looks like an id made by NewID; handlers use it to
// reject garbage before it reaches the database.
func ValidID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' && c != 'i' && c != 'l' && c != 'o' && c != 'u') {
			return false
		}
	}
	return true
}
