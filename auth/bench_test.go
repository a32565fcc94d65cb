package auth

import (
	"testing"
	"time"

	"github.com/certdesk/certdesk"
)

// BenchmarkSessionTokenCheck is the first step of every signed-in request:
// the session token's signature and expiry (the row is looked up after).
func BenchmarkSessionTokenCheck(b *testing.B) {
	s := newSigner("bench-secret-bench-secret-bench-secret", time.Now)
	tok := s.token(sessionClaims{ID: certdesk.NewID(), Subject: "agent:" + certdesk.NewID(), Expires: time.Now().Add(time.Hour).Unix()})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.parse(tok); err != nil {
			b.Fatal(err)
		}
	}
}
