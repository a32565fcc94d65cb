// Package codec encrypts every payload certdesk hands to Temporal (workflow
// inputs and results, signals, updates, activity arguments: names and email
// addresses) with AES-256-GCM, so Temporal's database and its Web UI hold no
// personal data in the clear. Keys carry an id: the current key encrypts,
// every configured key decrypts, so keys rotate without breaking histories.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

const (
	// Encoding marks an encrypted payload.
	Encoding = "binary/encrypted"
	// KeyIDKey names the key that encrypted a payload.
	KeyIDKey = "encryption-key-id"
)

// Codec is a converter.PayloadCodec.
type Codec struct {
	keys     map[string]cipher.AEAD
	current  string
	subjects subjects
}

var _ converter.PayloadCodec = (*Codec)(nil)

// New builds a codec; current names the key that encrypts.
func New(keys map[string][]byte, current string) (*Codec, error) {
	c := &Codec{keys: map[string]cipher.AEAD{}, current: current}
	for id, k := range keys {
		if len(k) != 32 {
			return nil, fmt.Errorf("codec: key %q is %d bytes, want 32 (AES-256)", id, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		if c.keys[id], err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	if _, ok := c.keys[current]; !ok {
		return nil, fmt.Errorf("codec: no key %q to encrypt with", current)
	}
	return c, nil
}

// Parse reads keys written as "id:base64key,id2:base64key"; the first is
// the current one.
func Parse(spec string) (*Codec, error) {
	keys := map[string][]byte{}
	current := ""
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		id, b64, ok := strings.Cut(part, ":")
		if !ok || id == "" {
			return nil, errors.New("codec: write keys as id:base64key, separated by commas")
		}
		k, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("codec: key %q is not base64", id)
		}
		if _, dup := keys[id]; dup {
			return nil, fmt.Errorf("codec: key id %q appears twice", id)
		}
		keys[id] = k
		if current == "" {
			current = id
		}
	}
	if current == "" {
		return nil, errors.New("codec: no key given")
	}
	return New(keys, current)
}

// NewKey returns a new key in Parse's form, for `certdesk dev` and for
// operators (`certdesk keys new`).
func NewKey(id string) string {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return id + ":" + base64.StdEncoding.EncodeToString(k[:])
}

// KeyIDs lists the configured key ids, the current one first.
func (c *Codec) KeyIDs() []string {
	ids := []string{c.current}
	var rest []string
	for id := range c.keys {
		if id != c.current {
			rest = append(rest, id)
		}
	}
	sort.Strings(rest)
	return append(ids, rest...)
}

// Encode encrypts each payload with the current key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return seal(payloads, c.keys[c.current], KeyIDKey, c.current)
}

// seal encrypts each payload with aead, naming the key (id, under the
// metadata key idKey, also the associated data).
func seal(payloads []*commonpb.Payload, aead cipher.AEAD, idKey, id string) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		_, _ = rand.Read(nonce)
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{converter.MetadataEncoding: []byte(Encoding), idKey: []byte(id)},
			Data:     aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode decrypts encrypted payloads and passes others through (histories
// written before encryption was on still read). A payload sealed by an
// erased person's key decodes to ErasedText.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		if sid := string(p.GetMetadata()[SubjectKeyIDKey]); sid != "" {
			dec, err := c.decodeSubject(p, sid)
			if err != nil {
				return nil, err
			}
			out[i] = dec
			continue
		}
		id := string(p.GetMetadata()[KeyIDKey])
		aead, ok := c.keys[id]
		if !ok {
			return nil, fmt.Errorf("codec: payload encrypted with key %q, which is not configured", id)
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, errors.New("codec: encrypted payload is too short")
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("codec: payload does not decrypt with key %q", id)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("codec: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

// DataConverter wraps the default converter with the codec: set it on every
// client and worker that touches certdesk's workflows (see Client). It
// encrypts with the subject key of the context it encodes in (subject.go),
// else with the current payload key.
func (c *Codec) DataConverter() converter.DataConverter {
	return c.converterFor("")
}

// Client sets the codec on a client's options: payloads, and failures too —
// a failure's message and stack trace go into the history encoded as a
// payload (EncodeCommonAttributes), so an error that quotes a name or an
// address is no more readable there than the payloads are.
//
// It also carries the subject through the headers (SubjectPropagator).
func (c *Codec) Client(opts client.Options) client.Options {
	opts.DataConverter, opts.FailureConverter = c.DataConverter(), c.FailureConverter()
	opts.ContextPropagators = append(opts.ContextPropagators, SubjectPropagator())
	return opts
}

// FailureConverter encodes failures' messages and stack traces with the
// codec (set by Client; replayers take it too).
func (c *Codec) FailureConverter() converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter: c.DataConverter(), EncodeCommonAttributes: true,
	})
}
