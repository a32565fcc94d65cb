package certdesk_test

import (
	"testing"

	"github.com/certdesk/certdesk"
)

// BenchmarkHashToken is the check of a link token on every GET and POST of
// /l/{token}: its form, then its SHA-256 (the row is found by the hash).
func BenchmarkHashToken(b *testing.B) {
	raw, want := certdesk.NewToken()
	b.ReportAllocs()
	for b.Loop() {
		if h, ok := certdesk.HashToken(raw); !ok || h != want {
			b.Fatal("the token did not check")
		}
	}
}

// BenchmarkHashTokenRefused is the refusal of what cannot be a token,
// which must cost less than a real check.
func BenchmarkHashTokenRefused(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := certdesk.HashToken("not-a-token-at-all-but-43-characters-long!!"); ok {
			b.Fatal("a bad token passed")
		}
	}
}
