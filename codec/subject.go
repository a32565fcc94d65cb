package codec

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"
)

// Crypto-shredding. Temporal histories are immutable, so a person's data
// in them cannot be deleted; it can be made unreadable. Every payload of a
// case about a person — the workflow's input, its activities' arguments
// and results, its updates and signals, its children — is encrypted with
// that person's own key (a "subject key"), named in the payload's
// metadata. The key store keeps each subject key sealed by a payload key;
// erasing the person destroys their keys, and every payload they sealed
// then decodes to ErasedText, without rewriting any history.
//
// The subject travels with the work: the desk puts a subject key's id on
// the context of a client call (WithSubject), a header carries it into the
// workflow, and from there into its activities and child workflows
// (SubjectPropagator); the data converter reads it from whichever context
// the SDK encodes in (converter.ContextAware).

const (
	// SubjectKeyIDKey names the subject key that encrypted a payload.
	SubjectKeyIDKey = "encryption-subject-key-id"
	// ErasedText is what an erased person's payload decodes to.
	ErasedText = "[erased: this person's data was erased]"
	// subjectHeader is the Temporal header that carries the subject.
	subjectHeader = "certdesk-subject"
	// subjectKeyTTL bounds how long a process keeps a subject key it read:
	// an erasure made by another process reaches this one within it.
	subjectKeyTTL = 30 * time.Second
)

// ErrErased refuses to encrypt with a key that was erased.
var ErrErased = errors.New("codec: this person's data was erased; nothing more is written under their key")

// KeyStore keeps subject keys, sealed (the store implements it).
type KeyStore interface {
	// SealedSubjectKey returns the key with an id as stored: sealed by the
	// payload key wrapKeyID, or nil once it was erased.
	SealedSubjectKey(ctx context.Context, id string) (sealed []byte, wrapKeyID string, err error)
	// WorkflowSubjectKey names the live key of the person a workflow's
	// case is about ("": none, or not known yet).
	WorkflowSubjectKey(ctx context.Context, workflowID string) (string, error)
}

type subjectKey struct{}

// WithSubject returns ctx carrying a subject key's id: what a client call
// made with it writes is encrypted with that key.
func WithSubject(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, subjectKey{}, id)
}

// Subject is the subject key id ctx carries, or "".
func Subject(ctx interface{ Value(any) any }) string {
	id, _ := ctx.Value(subjectKey{}).(string)
	return id
}

// UseKeyStore gives the codec the key store that holds subject keys;
// without one, payloads sealed by a subject key do not decode.
func (c *Codec) UseKeyStore(ks KeyStore) *Codec {
	c.subjects.Lock()
	c.subjects.store = ks
	c.subjects.Unlock()
	return c
}

// subjects caches the subject keys a process has opened.
type subjects struct {
	sync.Mutex
	store KeyStore
	open  map[string]openKey
	// byWorkflow (and the generation before, byWorkflowOld) remember the
	// subject of the workflows this process ran.
	byWorkflow, byWorkflowOld map[string]string
}

type openKey struct {
	aead cipher.AEAD // nil: erased
	at   time.Time
}

// NewSubjectKey makes a new subject key and seals it with the current
// payload key, for the key store to keep under id.
func (c *Codec) NewSubjectKey(id string) (sealed []byte, wrapKeyID string) {
	var k [32]byte
	_, _ = rand.Read(k[:])
	return c.seal(id, k[:]), c.current
}

// Reseal opens a sealed subject key and seals it again with the current
// payload key: after it, the payload key that sealed it may retire.
func (c *Codec) Reseal(id string, sealed []byte, wrapKeyID string) ([]byte, string, error) {
	k, err := c.unseal(id, sealed, wrapKeyID)
	if err != nil {
		return nil, "", err
	}
	return c.seal(id, k), c.current, nil
}

// Forget drops an opened subject key from this process's cache (the
// erasure does it for the keys it destroys).
func (c *Codec) Forget(id string) {
	c.subjects.Lock()
	delete(c.subjects.open, id)
	c.subjects.Unlock()
}

func (c *Codec) seal(id string, k []byte) []byte {
	aead := c.keys[c.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(k)+aead.Overhead())
	_, _ = rand.Read(nonce)
	return aead.Seal(nonce, nonce, k, []byte("subject:"+id))
}

func (c *Codec) unseal(id string, sealed []byte, wrapKeyID string) ([]byte, error) {
	aead, ok := c.keys[wrapKeyID]
	if !ok {
		return nil, fmt.Errorf("codec: subject key %q is sealed by payload key %q, which is not configured", id, wrapKeyID)
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("codec: subject key %q is too short", id)
	}
	k, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte("subject:"+id))
	if err != nil {
		return nil, fmt.Errorf("codec: subject key %q does not open with payload key %q", id, wrapKeyID)
	}
	return k, nil
}

// subjectAEAD opens the subject key id (nil: erased), from the cache when
// it was read lately.
func (c *Codec) subjectAEAD(id string) (cipher.AEAD, error) {
	c.subjects.Lock()
	ks := c.subjects.store
	o, ok := c.subjects.open[id]
	c.subjects.Unlock()
	if ok && time.Since(o.at) < subjectKeyTTL {
		return o.aead, nil
	}
	if ks == nil {
		return nil, fmt.Errorf("codec: payload sealed by subject key %q, and no key store is configured", id)
	}
	sealed, wrapID, err := readSubjectKey(ks, id)
	if err != nil {
		if ok {
			return o.aead, nil // the store is away: the key as last read
		}
		return nil, fmt.Errorf("codec: subject key %q: %w", id, err)
	}
	var aead cipher.AEAD
	if sealed != nil {
		k, err := c.unseal(id, sealed, wrapID)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		if aead, err = cipher.NewGCM(block); err != nil {
			return nil, err
		}
	}
	c.subjects.Lock()
	if c.subjects.open == nil {
		c.subjects.open = map[string]openKey{}
	}
	c.subjects.open[id] = openKey{aead: aead, at: time.Now()}
	c.subjects.Unlock()
	return aead, nil
}

// subjectKeyPatience is how long a read of a subject key waits out the
// store being away (a restart, dropped connections). A payload that cannot
// be decoded is not retried by the SDK the way a failed task is — a
// workflow's input that does not decode fails the workflow — so the codec
// waits rather than fail; in a workflow task, the SDK's deadlock detector
// may end the wait sooner, and the task is retried.
const subjectKeyPatience = time.Minute

func readSubjectKey(ks KeyStore, id string) (sealed []byte, wrapID string, err error) {
	deadline := time.Now().Add(subjectKeyPatience)
	for pause := 100 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		sealed, wrapID, err = ks.SealedSubjectKey(ctx, id)
		cancel()
		if err == nil || time.Now().Add(pause).After(deadline) {
			return sealed, wrapID, err
		}
		time.Sleep(pause)
	}
}

// subjectCodec encrypts with one subject's key; it decodes everything the
// Codec does.
type subjectCodec struct {
	c  *Codec
	id string
}

func (s subjectCodec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	aead, err := s.c.subjectAEAD(s.id)
	if err != nil {
		return nil, err
	}
	if aead == nil {
		return nil, ErrErased
	}
	return seal(payloads, aead, SubjectKeyIDKey, s.id)
}

func (s subjectCodec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	return s.c.Decode(payloads)
}

// decodeSubject opens a payload sealed by a subject key; an erased key's
// payload reads ErasedText.
func (c *Codec) decodeSubject(p *commonpb.Payload, id string) (*commonpb.Payload, error) {
	aead, err := c.subjectAEAD(id)
	if err != nil {
		return nil, err
	}
	if aead == nil {
		return erased(), nil
	}
	data := p.GetData()
	if len(data) < aead.NonceSize() {
		return nil, errors.New("codec: encrypted payload is too short")
	}
	plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
	if err != nil {
		return nil, fmt.Errorf("codec: payload does not decrypt with subject key %q", id)
	}
	var dec commonpb.Payload
	if err := proto.Unmarshal(plain, &dec); err != nil {
		return nil, fmt.Errorf("codec: %w", err)
	}
	return &dec, nil
}

func erased() *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{converter.MetadataEncoding: []byte(converter.MetadataEncodingJSON)},
		Data:     []byte(`"` + ErasedText + `"`),
	}
}

// dataConverter is the codec's data converter: it encrypts with the
// subject of the context the SDK encodes in, else with the subject of the
// workflow it encodes for, else with the payload key. It does not embed the
// converter it wraps: an embedded WithSerializationContext would hand the
// SDK a converter that no longer reads the subject.
type dataConverter struct {
	c          *Codec
	subject    string
	workflowID string
}

var (
	_ converter.DataConverter                         = dataConverter{}
	_ workflow.ContextAware                           = dataConverter{}
	_ converter.DataConverterWithSerializationContext = dataConverter{}
)

func (c *Codec) converterFor(subject string) dataConverter {
	return dataConverter{c: c, subject: subject}
}

// WithContext: a client call or an activity, whose context carries the
// subject (WithSubject, or the header).
func (d dataConverter) WithContext(ctx context.Context) converter.DataConverter {
	if id := Subject(ctx); id != "" {
		d.subject = id
	}
	return d
}

// WithWorkflowContext: the workflow's own code, whose context carries the
// subject from the start's header. The codec remembers the workflow's
// subject for what the SDK encodes without this context (an Update's
// result).
func (d dataConverter) WithWorkflowContext(ctx workflow.Context) converter.DataConverter {
	d.subject = Subject(ctx)
	// What the workflow's own code says is remembered, no subject too: the
	// worker never asks the key store about a workflow it runs.
	if wf := workflowID(ctx); wf != "" {
		d.c.rememberWorkflow(wf, d.subject)
	}
	return d
}

// WithSerializationContext: the SDK names the workflow a payload is for;
// what has no subject of its own is sealed by the workflow's.
func (d dataConverter) WithSerializationContext(sc converter.SerializationContext) converter.DataConverter {
	// An activity's payloads carry the subject in its context (the header);
	// only a workflow's own payloads may come without one.
	if sc, ok := sc.(converter.WorkflowSerializationContext); ok {
		d.workflowID = sc.WorkflowID
	}
	return d
}

func workflowID(ctx workflow.Context) (id string) {
	defer func() { _ = recover() }() // a context with no workflow behind it
	return workflow.GetInfo(ctx).WorkflowExecution.ID
}

// dc is the converter that does the work, with the codec of the subject.
func (d dataConverter) dc() converter.DataConverter {
	subject := d.subject
	if subject == "" && d.workflowID != "" {
		subject = d.c.workflowSubject(d.workflowID)
	}
	var pc converter.PayloadCodec = d.c
	if subject != "" {
		pc = subjectCodec{c: d.c, id: subject}
	}
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), pc)
}

func (d dataConverter) ToPayload(value any) (*commonpb.Payload, error) {
	return d.dc().ToPayload(value)
}
func (d dataConverter) FromPayload(p *commonpb.Payload, valuePtr any) error {
	return d.dc().FromPayload(p, valuePtr)
}
func (d dataConverter) ToPayloads(values ...any) (*commonpb.Payloads, error) {
	return d.dc().ToPayloads(values...)
}
func (d dataConverter) FromPayloads(ps *commonpb.Payloads, valuePtrs ...any) error {
	return d.dc().FromPayloads(ps, valuePtrs...)
}
func (d dataConverter) ToString(p *commonpb.Payload) string      { return d.dc().ToString(p) }
func (d dataConverter) ToStrings(ps *commonpb.Payloads) []string { return d.dc().ToStrings(ps) }

// workflowsRemembered bounds the workflows whose subject a process keeps
// in memory (two generations of it: a workflow the worker runs is
// remembered again at each of its tasks); past it, the key store answers.
const workflowsRemembered = 50_000

func (c *Codec) rememberWorkflow(workflowID, subject string) {
	c.subjects.Lock()
	defer c.subjects.Unlock()
	if had, ok := c.subjects.byWorkflow[workflowID]; ok && had == subject {
		return
	}
	if c.subjects.byWorkflow == nil || len(c.subjects.byWorkflow) >= workflowsRemembered {
		c.subjects.byWorkflowOld, c.subjects.byWorkflow = c.subjects.byWorkflow, map[string]string{}
	}
	c.subjects.byWorkflow[workflowID] = subject
}

// workflowSubject is the subject of a workflow: remembered from its own
// code, else the key store's (the case the workflow runs), else none —
// remembered too, so a workflow with no subject (the sweep, webhook
// delivery) costs one read per process, not one per payload. The worker
// learns a case's subject from the workflow's own start, which comes
// before anything the SDK encodes without its context.
func (c *Codec) workflowSubject(workflowID string) string {
	c.subjects.Lock()
	id, ok := c.subjects.byWorkflow[workflowID]
	if !ok {
		id, ok = c.subjects.byWorkflowOld[workflowID]
	}
	ks := c.subjects.store
	c.subjects.Unlock()
	if ok || ks == nil {
		return id
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := ks.WorkflowSubjectKey(ctx, workflowID)
	if err != nil {
		return "" // sealed by the payload key, as before subjects
	}
	c.rememberWorkflow(workflowID, id)
	return id
}

// SubjectPropagator carries the subject through Temporal's headers: from a
// client call into the workflow, from the workflow into its activities and
// children (Client sets it).
func SubjectPropagator() workflow.ContextPropagator { return subjectPropagator{} }

type subjectPropagator struct{}

func (subjectPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return writeSubject(Subject(ctx), w)
}

func (subjectPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	return writeSubject(Subject(ctx), w)
}

func (subjectPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if id := readSubject(r); id != "" {
		return WithSubject(ctx, id), nil
	}
	return ctx, nil
}

func (subjectPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if id := readSubject(r); id != "" {
		return workflow.WithValue(ctx, subjectKey{}, id), nil
	}
	return ctx, nil
}

// The header holds only the key's id (random, naming no one), so it is
// written with the default converter: the codec needs it to decode.
func writeSubject(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(subjectHeader, p)
	return nil
}

func readSubject(r workflow.HeaderReader) string {
	p, ok := r.Get(subjectHeader)
	if !ok {
		return ""
	}
	var id string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &id); err != nil {
		return ""
	}
	return id
}
