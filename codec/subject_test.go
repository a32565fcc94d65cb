package codec_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/codec"
)

// keyStore is a key store in memory: what the store keeps, sealed.
type keyStore struct {
	sync.Mutex
	keys map[string]sealedKey
}

type sealedKey struct {
	sealed []byte
	wrap   string
}

func (k *keyStore) SealedSubjectKey(_ context.Context, id string) ([]byte, string, error) {
	k.Lock()
	defer k.Unlock()
	s, ok := k.keys[id]
	if !ok {
		return nil, "", errors.New("no such key")
	}
	return s.sealed, s.wrap, nil
}

func (k *keyStore) WorkflowSubjectKey(context.Context, string) (string, error) { return "", nil }

func (k *keyStore) put(id string, sealed []byte, wrap string) {
	k.Lock()
	defer k.Unlock()
	if k.keys == nil {
		k.keys = map[string]sealedKey{}
	}
	k.keys[id] = sealedKey{sealed, wrap}
}

// encodeFor encodes v as a client call carrying subject would.
func encodeFor(t *testing.T, c *codec.Codec, subject string, v any) []byte {
	t.Helper()
	dc := c.DataConverter().(workflow.ContextAware).WithContext(codec.WithSubject(context.Background(), subject))
	p, err := dc.ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(p.Metadata[codec.SubjectKeyIDKey]) != subject || bytes.Contains(p.Data, []byte("Dara")) {
		t.Fatalf("metadata %v: not sealed by the subject's key", p.Metadata)
	}
	raw, _ := p.Marshal()
	return raw
}

func TestSubjectKeysShredAPersonsPayloadsOnly(t *testing.T) {
	c, err := codec.Parse(codec.NewKey("k1"))
	if err != nil {
		t.Fatal(err)
	}
	ks := &keyStore{}
	c.UseKeyStore(ks)
	for _, id := range []string{"sk_dara", "sk_ben"} {
		sealed, wrap := c.NewSubjectKey(id)
		if bytes.Contains(sealed, []byte(id)) || wrap != "k1" {
			t.Fatalf("sealed %x by %q", sealed, wrap)
		}
		ks.put(id, sealed, wrap)
	}
	dara := map[string]string{"legal_name": "Dara Murphy"}
	pd := decodeP(t, encodeFor(t, c, "sk_dara", dara))
	pb := decodeP(t, encodeFor(t, c, "sk_ben", map[string]string{"legal_name": "Ben"}))

	var got map[string]string
	if err := c.DataConverter().FromPayload(pd, &got); err != nil || got["legal_name"] != "Dara Murphy" {
		t.Fatalf("before erasure: %v %v", got, err)
	}
	// Erased: Dara's key is gone from the store and from this process.
	ks.put("sk_dara", nil, "")
	c.Forget("sk_dara")
	dec, err := c.Decode([]*commonpb.Payload{pd})
	if err != nil || !bytes.Contains(dec[0].Data, []byte(codec.ErasedText)) || bytes.Contains(dec[0].Data, []byte("Dara")) {
		t.Fatalf("after erasure Dara's payload reads %q (%v)", dec[0].GetData(), err)
	}
	var s string
	if err := c.DataConverter().FromPayload(pd, &s); err != nil || s != codec.ErasedText {
		t.Fatalf("as a value: %q %v", s, err)
	}
	if err := c.DataConverter().FromPayload(pb, &got); err != nil || got["legal_name"] != "Ben" {
		t.Fatalf("Ben's payload after Dara's erasure: %v %v", got, err)
	}
	// Nothing more is written under an erased key.
	dc := c.DataConverter().(workflow.ContextAware).WithContext(codec.WithSubject(context.Background(), "sk_dara"))
	if _, err := dc.ToPayload(dara); !errors.Is(err, codec.ErrErased) {
		t.Fatalf("encoding under an erased key: %v", err)
	}
	// Erasing twice is harmless.
	ks.put("sk_dara", nil, "")
	c.Forget("sk_dara")
	if dec, err := c.Decode([]*commonpb.Payload{pd}); err != nil || !bytes.Contains(dec[0].Data, []byte(codec.ErasedText)) {
		t.Fatalf("erased twice: %q %v", dec[0].GetData(), err)
	}
}

func TestSubjectKeysSurviveARotationOfThePayloadKey(t *testing.T) {
	k1, k2 := codec.NewKey("k1"), codec.NewKey("k2")
	before, _ := codec.Parse(k1)
	ks := &keyStore{}
	before.UseKeyStore(ks)
	sealed, wrap := before.NewSubjectKey("sk_dara")
	ks.put("sk_dara", sealed, wrap)
	raw := encodeFor(t, before, "sk_dara", map[string]string{"legal_name": "Dara Murphy"})

	// A new process (nothing cached) with k2 current and k1 kept.
	rotated, _ := codec.Parse(k2 + "," + k1)
	rotated.UseKeyStore(ks)
	var got map[string]string
	if err := rotated.DataConverter().FromPayload(decodeP(t, raw), &got); err != nil || got["legal_name"] != "Dara Murphy" {
		t.Fatalf("after rotation: %v %v", got, err)
	}
	// Resealed with k2, k1 retires.
	resealed, wrap, err := rotated.Reseal("sk_dara", sealed, wrap)
	if err != nil || wrap != "k2" {
		t.Fatalf("reseal: %q %v", wrap, err)
	}
	ks.put("sk_dara", resealed, wrap)
	only2, _ := codec.Parse(k2)
	only2.UseKeyStore(ks)
	if err := only2.DataConverter().FromPayload(decodeP(t, raw), &got); err != nil || got["legal_name"] != "Dara Murphy" {
		t.Fatalf("with k1 retired: %v %v", got, err)
	}
	// Without the key that sealed it, a subject key does not open.
	ks.put("sk_dara", sealed, "k1")
	fresh, _ := codec.Parse(k2)
	fresh.UseKeyStore(ks)
	if err := fresh.DataConverter().FromPayload(decodeP(t, raw), &got); err == nil {
		t.Fatal("a subject key sealed by a retired payload key opened")
	}
	// A codec with no key store says so.
	bare, _ := codec.Parse(k2)
	if err := bare.DataConverter().FromPayload(decodeP(t, raw), &got); err == nil {
		t.Fatal("decoded a subject's payload without a key store")
	}
}

func decodeP(t *testing.T, raw []byte) *commonpb.Payload {
	t.Helper()
	var p commonpb.Payload
	if err := p.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	return &p
}

// countingStore counts the key store's answers about workflows.
type countingStore struct {
	keyStore
	asked map[string]int
	of    map[string]string
}

func (c *countingStore) WorkflowSubjectKey(_ context.Context, wf string) (string, error) {
	c.asked[wf]++
	return c.of[wf], nil
}

// What the SDK encodes with only the workflow's id (an Update's result) is
// sealed by the workflow's subject; a workflow without one costs the key
// store one question per process, not one per payload.
func TestAWorkflowsSubjectIsAskedOnce(t *testing.T) {
	c, _ := codec.Parse(codec.NewKey("k1"))
	ks := &countingStore{asked: map[string]int{}, of: map[string]string{"merge-1": "sk_dara"}}
	c.UseKeyStore(ks)
	sealed, wrap := c.NewSubjectKey("sk_dara")
	ks.put("sk_dara", sealed, wrap)
	for _, wf := range []string{"merge-1", "sweep-1"} {
		dc := c.DataConverter().(converter.DataConverterWithSerializationContext).
			WithSerializationContext(converter.WorkflowSerializationContext{WorkflowID: wf})
		for range 3 {
			p, err := dc.ToPayload("x")
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(p.Metadata[codec.SubjectKeyIDKey]), ks.of[wf]; got != want {
				t.Errorf("%s: sealed by subject %q, want %q", wf, got, want)
			}
		}
		if ks.asked[wf] != 1 {
			t.Errorf("%s: the key store was asked %d times", wf, ks.asked[wf])
		}
	}
}

// flakyStore fails its first reads, as a store restarting does.
type flakyStore struct {
	keyStore
	fails int
}

func (f *flakyStore) SealedSubjectKey(ctx context.Context, id string) ([]byte, string, error) {
	if f.fails > 0 {
		f.fails--
		return nil, "", errors.New("connection refused")
	}
	return f.keyStore.SealedSubjectKey(ctx, id)
}

// A payload read while the store is away waits for it instead of failing
// (a workflow's input that does not decode would fail the workflow).
func TestASubjectKeyWaitsOutTheStoreBeingAway(t *testing.T) {
	c, _ := codec.Parse(codec.NewKey("k1"))
	ks := &flakyStore{}
	c.UseKeyStore(ks)
	sealed, wrap := c.NewSubjectKey("sk_dara")
	ks.put("sk_dara", sealed, wrap)
	raw := encodeFor(t, c, "sk_dara", map[string]string{"legal_name": "Dara Murphy"})
	c.Forget("sk_dara") // as a process that has not read it yet
	ks.fails = 3
	var got map[string]string
	if err := c.DataConverter().FromPayload(decodeP(t, raw), &got); err != nil || got["legal_name"] != "Dara Murphy" {
		t.Fatalf("with the store away for three reads: %v %v", got, err)
	}
}
