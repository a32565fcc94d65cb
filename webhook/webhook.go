// Package webhook is Standard Webhooks (https://www.standardwebhooks.com):
// secrets, signatures, and a sender that will not reach the machine it runs
// on or the cloud's metadata service.
//
// A message is signed as HMAC-SHA256(key, id + "." + timestamp + "." + body),
// where key is the base64 after "whsec_" and timestamp is Unix seconds; the
// webhook-signature header lists "v1,<base64 signature>" for each secret,
// separated by spaces (several during a rotation).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// NewSecret makes a signing secret: whsec_ and 32 random bytes in base64.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}

func key(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(k) == 0 {
		return nil, errors.New("webhook: a secret is whsec_ and base64")
	}
	return k, nil
}

func signature(k []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, k)
	fmt.Fprintf(m, "%s.%d.", id, ts)
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Sign returns the webhook-signature header's value: one signature per
// secret.
func Sign(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", errors.New("webhook: no secret to sign with")
	}
	sigs := make([]string, len(secrets))
	for i, s := range secrets {
		k, err := key(s)
		if err != nil {
			return "", err
		}
		sigs[i] = signature(k, id, ts.Unix(), body)
	}
	return strings.Join(sigs, " "), nil
}

// Headers sets a delivery's three headers on h.
func Headers(h http.Header, secrets []string, id string, ts time.Time, body []byte) error {
	sig, err := Sign(secrets, id, ts, body)
	if err != nil {
		return err
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return nil
}

// Tolerance is how far a delivery's timestamp may be from the receiver's
// clock (Standard Webhooks suggests five minutes): older ones are replays.
const Tolerance = 5 * time.Minute

// Verify checks a delivery as a receiver does: the timestamp within
// Tolerance of now, and one of the signatures made with the secret.
func Verify(secret string, h http.Header, body []byte, now time.Time) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return errors.New("webhook: webhook-timestamp is not Unix seconds")
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return errors.New("webhook: the timestamp is too far from now")
	}
	k, err := key(secret)
	if err != nil {
		return err
	}
	want := signature(k, id, ts, body)
	for s := range strings.SplitSeq(sigs, " ") {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("webhook: no signature matches")
}
