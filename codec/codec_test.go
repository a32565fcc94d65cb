package codec_test

import (
	"bytes"
	"strings"
	"testing"

	"go.temporal.io/sdk/converter"

	"github.com/certdesk/certdesk/codec"
)

func TestRoundTripAndRotation(t *testing.T) {
	oldKey := codec.NewKey("2025")
	newKey := codec.NewKey("2026")
	before, err := codec.Parse(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	dc := before.DataConverter()
	p, err := dc.ToPayload(map[string]string{"legal_name": "Dara Murphy", "contact_email": "dara.m@proton.example"})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(p.Data, []byte("Dara")) || bytes.Contains(p.Data, []byte("proton")) {
		t.Fatal("the payload holds the name or email in the clear")
	}
	if string(p.Metadata["encoding"]) != codec.Encoding || string(p.Metadata[codec.KeyIDKey]) != "2025" {
		t.Fatalf("metadata %v", p.Metadata)
	}
	// Rotated: the new key encrypts, the old one still decrypts.
	after, err := codec.Parse(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := after.DataConverter().FromPayload(p, &got); err != nil || got["legal_name"] != "Dara Murphy" {
		t.Fatalf("after rotation: %v %v", got, err)
	}
	q, _ := after.DataConverter().ToPayload("x")
	if string(q.Metadata[codec.KeyIDKey]) != "2026" {
		t.Fatalf("rotated codec encrypts with %s", q.Metadata[codec.KeyIDKey])
	}
	// Without the old key it refuses, naming the key.
	only, _ := codec.Parse(newKey)
	if err := only.DataConverter().FromPayload(p, &got); err == nil || !strings.Contains(err.Error(), "2025") {
		t.Fatalf("decoding with a missing key: %v", err)
	}
	// Tampering is detected.
	p.Data[len(p.Data)-1] ^= 1
	if err := after.DataConverter().FromPayload(p, &got); err == nil {
		t.Fatal("a tampered payload decoded")
	}
	// Plain payloads (written before encryption) pass through.
	plain, _ := converter.GetDefaultDataConverter().ToPayload("hello")
	var s string
	if err := after.DataConverter().FromPayload(plain, &s); err != nil || s != "hello" {
		t.Fatalf("plain payload: %q %v", s, err)
	}
}

func TestParseRefusesBadKeys(t *testing.T) {
	for _, spec := range []string{"", "nokey", "a:!!!", "a:AAAA", codec.NewKey("a") + "," + codec.NewKey("a")} {
		if _, err := codec.Parse(spec); err == nil {
			t.Errorf("Parse(%q) accepted", spec)
		}
	}
}
