package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"testing"
)

// WebhookKey makes a signing key like SendGrid's and returns it with its
// verification key as SendGrid shows it (base64 of the DER public key).
func WebhookKey(tb testing.TB) (*ecdsa.PrivateKey, string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return key, base64.StdEncoding.EncodeToString(der)
}

// SignWebhook signs like SendGrid: ECDSA over sha256(timestamp + body), the
// ASN.1 signature in base64.
func SignWebhook(tb testing.TB, key *ecdsa.PrivateKey, timestamp string, body []byte) string {
	tb.Helper()
	h := sha256.Sum256(append([]byte(timestamp), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
