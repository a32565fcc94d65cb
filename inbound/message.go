package inbound

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"

	sginbound "github.com/sendgrid/sendgrid-go/helpers/inbound"

	"github.com/certdesk/certdesk"
)

// Limits of a post. SendGrid accepts messages of up to 30 MB; a raw post
// carries attachments in base64, a third larger. Attachments beyond
// MaxAttachments or larger than MaxAttachmentSize are left out of the
// Message and named in Refused: the learner's text still reaches the case.
const (
	MaxPostSize       = 40 << 20
	MaxAttachments    = 10
	MaxAttachmentSize = 10 << 20
)

// The errors of ReadBody and Parse.
var (
	ErrTooLarge  = errors.New("inbound: post larger than the limit")
	ErrMalformed = errors.New("inbound: malformed post")
)

// Message is an email as SendGrid posted it.
type Message struct {
	// MessageID is the Message-ID header without its angle brackets:
	// SendGrid retries a post, and a message is recorded once by it.
	MessageID string
	// InReplyTo and References are message ids (without brackets).
	InReplyTo  []string
	References []string
	// From is the sender's address (canonical: see certdesk.NormalizeEmail)
	// and FromName their display name, from the From header.
	From     string
	FromName string
	// EnvelopeFrom is the SMTP sender, "" for a bounce.
	EnvelopeFrom string
	// To are the addresses SendGrid received the message for (the
	// envelope's recipients, else those of To and Cc), canonical.
	To      []string
	Subject string
	// Text is the plain-text body, whole (NewText keeps the new part);
	// HTML is the HTML body, for reference only: it is never rendered.
	Text string
	HTML string
	// Headers are the message's headers, keys in canonical form.
	Headers textproto.MIMEHeader
	// Attachments are the files within the limits; Refused says which
	// others were left out, and why.
	Attachments []Attachment
	Refused     []string
	// SPF and DKIM are SendGrid's verdicts, as posted.
	SPF, DKIM string

	nullSender bool // the envelope says there is no sender: a bounce
}

// Attachment is a file of a message. Its name and type are the sender's
// claims: never trusted for rendering.
type Attachment struct {
	Filename    string
	ContentType string
	// Inline is true for a part referenced from the HTML (a Content-ID): a
	// logo in a signature rather than a document.
	Inline bool
	Data   []byte
}

// ReadBody reads a post's body, at most MaxPostSize bytes: the signature
// is checked on these bytes, then Parse reads them.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > MaxPostSize {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxPostSize+1))
	if err != nil {
		return nil, fmt.Errorf("inbound: reading the post: %w", err)
	}
	if len(body) > MaxPostSize {
		return nil, ErrTooLarge
	}
	return body, nil
}

// Parse reads an Inbound Parse post: the default ("parsed") form, or the
// raw one whose "email" field holds the whole MIME message. Every error
// wraps ErrMalformed or ErrTooLarge.
func Parse(contentType string, body []byte) (m Message, err error) {
	defer func() {
		if err != nil && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
			err = fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	}()
	if len(body) > MaxPostSize {
		return m, ErrTooLarge
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "multipart/form-data" {
		return m, fmt.Errorf("content type %q is not multipart/form-data", contentType)
	}
	req, err := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	if err != nil {
		return m, err
	}
	req.Header.Set("Content-Type", contentType)
	// Everything in memory: the body is there already, bounded.
	if err := req.ParseMultipartForm(MaxPostSize); err != nil {
		return m, err
	}
	defer func() { _ = req.MultipartForm.RemoveAll() }()
	form := req.MultipartForm

	var env struct {
		From *string  `json:"from"`
		To   []string `json:"to"`
	}
	if v := first(form.Value["envelope"]); v != "" {
		if err := json.Unmarshal([]byte(v), &env); err != nil {
			return m, fmt.Errorf("envelope: %v", err)
		}
	}
	if raw := first(form.Value["email"]); raw != "" {
		m, err = parseRaw(raw)
	} else {
		m, err = parseFields(req)
	}
	if err != nil {
		return m, err
	}
	if env.From != nil {
		m.EnvelopeFrom = certdesk.NormalizeEmail(*env.From)
		m.nullSender = m.EnvelopeFrom == ""
	}
	if len(env.To) > 0 {
		m.To = m.To[:0]
		for _, to := range env.To {
			m.To = append(m.To, certdesk.NormalizeEmail(to))
		}
	}
	m.SPF, m.DKIM = first(form.Value["SPF"]), first(form.Value["dkim"])
	if m.From == "" && m.EnvelopeFrom == "" && !m.nullSender {
		return m, errors.New("no sender")
	}
	if len(m.To) == 0 {
		return m, errors.New("no recipient")
	}
	return m, nil
}

// attachmentInfo is a parsed post's description of its files.
type attachmentInfo struct {
	Filename  string `json:"filename"`
	Type      string `json:"type"`
	ContentID string `json:"content-id"`
}

// parseFields reads the default form with the SendGrid library. Its
// parser assumes what a malformed post breaks (a file it has no
// attachment-info for is a nil dereference), so that is checked first.
func parseFields(req *http.Request) (Message, error) {
	var m Message
	form := req.MultipartForm
	info := map[string]attachmentInfo{}
	if v := first(form.Value["attachment-info"]); v != "" {
		if err := json.Unmarshal([]byte(v), &info); err != nil {
			return m, fmt.Errorf("attachment-info: %v", err)
		}
	}
	if len(form.Value["attachment-info"]) > 1 {
		return m, errors.New("attachment-info given twice")
	}
	for name, files := range form.File {
		if _, ok := info[name]; !ok || len(files) != 1 {
			return m, fmt.Errorf("file %q without its attachment-info", name)
		}
	}
	if len(form.File) > 0 && len(form.Value["attachment-info"]) == 0 {
		return m, errors.New("files without attachment-info")
	}
	for name := range info {
		if len(form.File[name]) == 0 {
			return m, fmt.Errorf("attachment-info names %q, which was not posted", name)
		}
	}
	var charsets map[string]string
	if v := first(form.Value["charsets"]); v != "" {
		if err := json.Unmarshal([]byte(v), &charsets); err != nil {
			return m, fmt.Errorf("charsets: %v", err)
		}
	}
	// The fields are in the charsets the sender used.
	field := func(name string) string { return decodeCharset(first(form.Value[name]), charsets[name]) }

	parsed, err := sginbound.ParseWithAttachments(req)
	if err != nil {
		return m, err
	}
	m.Headers = parseHeaders(first(form.Value["headers"]))
	m.setIDs()
	m.Subject = field("subject")
	m.Text = decodeCharset(parsed.TextBody, charsets["text"])
	m.HTML = field("html")
	m.From, m.FromName = parseFrom(field("from"))
	m.To = addressList(field("to"), field("cc"))

	for _, name := range attachmentOrder(parsed.ParsedAttachments) {
		a := parsed.ParsedAttachments[name]
		data, err := readAttachment(a)
		if err != nil {
			return m, fmt.Errorf("%s: %v", name, err)
		}
		m.addAttachment(Attachment{Filename: a.Filename, ContentType: a.ContentType, Inline: info[name].ContentID != "", Data: data})
	}
	return m, nil
}

// readAttachment reads a posted file, no more than one byte past the
// limit (enough to know it is over).
func readAttachment(a *sginbound.EmailAttachment) ([]byte, error) {
	if a.File == nil {
		return nil, errors.New("no file")
	}
	defer a.File.Close()
	return io.ReadAll(io.LimitReader(a.File, MaxAttachmentSize+1))
}

// attachmentOrder is attachment1, attachment2, … in their order, the
// others after them by name.
func attachmentOrder(atts map[string]*sginbound.EmailAttachment) []string {
	names := make([]string, 0, len(atts))
	for n := range atts {
		names = append(names, n)
	}
	number := func(n string) int {
		if d, ok := strings.CutPrefix(n, "attachment"); ok {
			if i, err := strconv.Atoi(d); err == nil && i >= 0 {
				return i
			}
		}
		return math.MaxInt
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(number(a), number(b)), strings.Compare(a, b))
	})
	return names
}

// addAttachment keeps a file within the limits, or says why not.
func (m *Message) addAttachment(a Attachment) {
	if a.Filename == "" {
		a.Filename = "attachment"
	}
	switch {
	case len(m.Attachments) >= MaxAttachments:
		m.Refused = append(m.Refused, fmt.Sprintf("%s: more than %d files", a.Filename, MaxAttachments))
	case len(a.Data) > MaxAttachmentSize:
		m.Refused = append(m.Refused, fmt.Sprintf("%s: larger than %d MB", a.Filename, MaxAttachmentSize>>20))
	default:
		m.Attachments = append(m.Attachments, a)
	}
}

// setIDs reads the message ids from the headers.
func (m *Message) setIDs() {
	if ids := messageIDs(m.Headers.Get("Message-Id")); len(ids) > 0 {
		m.MessageID = ids[0]
	}
	m.InReplyTo = messageIDs(m.Headers.Get("In-Reply-To"))
	m.References = messageIDs(strings.Join(m.Headers.Values("References"), " "))
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
