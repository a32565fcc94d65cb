// Package inboundtest builds the posts SendGrid's Inbound Parse webhook
// sends, for tests and for dev mode's "Reply" button.
package inboundtest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/textproto"
	"strings"
)

// Boundary is the boundary SendGrid's posts use.
const Boundary = "xYzZY"

// Post is an email as Inbound Parse posts it.
type Post struct {
	From    string // header From, e.g. `Ada Lovelace <ada@example.org>`
	To      string // header To
	Cc      string
	Subject string
	Text    string
	HTML    string
	// MessageID, InReplyTo and References are header values, with their
	// angle brackets; a MessageID is made up when empty.
	MessageID, InReplyTo, References string
	// Headers are further header lines ("Auto-Submitted: auto-replied").
	Headers []string
	// EnvelopeFrom and EnvelopeTo are the SMTP envelope; empty, the header
	// addresses. NullSender posts an empty envelope sender (a bounce).
	EnvelopeFrom string
	EnvelopeTo   []string
	NullSender   bool
	Attachments  []File
	// Raw posts the whole MIME message in the "email" field, as a parse
	// setting with "POST the raw, full MIME message" does.
	Raw bool
}

// File is an attachment.
type File struct {
	Name, Type string
	Data       []byte
	// ContentID makes it an inline part (an image the HTML shows).
	ContentID string
}

// Request returns the post as an HTTP request to url.
func (p Post) Request(url string) *http.Request {
	ct, body := p.Encode()
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", ct)
	r.Header.Set("User-Agent", "Sendlib/1.0")
	return r
}

// Encode returns the post's content type and body, its fields in the
// order SendGrid sends them.
func (p Post) Encode() (contentType string, body []byte) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.SetBoundary(Boundary); err != nil {
		panic(err)
	}
	field := func(name, value string) {
		if err := w.WriteField(name, value); err != nil {
			panic(err)
		}
	}
	envFrom := p.EnvelopeFrom
	if envFrom == "" && !p.NullSender {
		envFrom = address(p.From)
	}
	envTo := p.EnvelopeTo
	if len(envTo) == 0 {
		for _, a := range strings.Split(p.To+","+p.Cc, ",") {
			if a = address(a); a != "" {
				envTo = append(envTo, a)
			}
		}
	}
	envelope, _ := json.Marshal(map[string]any{"to": envTo, "from": envFrom})
	headers := p.headerBlock()

	if p.Raw {
		field("dkim", "{@example.org : pass}")
		field("email", headers+p.mimeBody())
		field("to", p.To)
		field("from", p.From)
		field("sender_ip", "192.0.2.25")
		field("envelope", string(envelope))
		field("subject", p.Subject)
		field("charsets", `{"to":"UTF-8","subject":"UTF-8","from":"UTF-8"}`)
		field("SPF", "pass")
		_ = w.Close()
		return w.FormDataContentType(), buf.Bytes()
	}

	field("headers", headers)
	field("dkim", "{@example.org : pass}")
	if ids := p.contentIDs(); ids != "" {
		field("content-ids", ids)
	}
	field("to", p.To)
	if p.Cc != "" {
		field("cc", p.Cc)
	}
	if p.HTML != "" {
		field("html", p.HTML)
	}
	field("from", p.From)
	field("text", p.Text)
	field("sender_ip", "192.0.2.25")
	field("envelope", string(envelope))
	field("attachments", fmt.Sprint(len(p.Attachments)))
	field("subject", p.Subject)
	if len(p.Attachments) > 0 {
		info := map[string]map[string]string{}
		for i, f := range p.Attachments {
			a := map[string]string{"filename": f.Name, "name": f.Name, "type": f.Type}
			if f.ContentID != "" {
				a["content-id"] = f.ContentID
			}
			info[fmt.Sprintf("attachment%d", i+1)] = a
		}
		b, _ := json.Marshal(info)
		field("attachment-info", string(b))
	}
	field("charsets", `{"to":"UTF-8","html":"UTF-8","subject":"UTF-8","from":"UTF-8","text":"UTF-8"}`)
	field("SPF", "pass")
	for i, f := range p.Attachments {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachment%d"; filename=%q`, i+1, f.Name))
		h.Set("Content-Type", f.Type)
		part, err := w.CreatePart(h)
		if err != nil {
			panic(err)
		}
		_, _ = part.Write(f.Data)
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func (p Post) headerBlock() string {
	id := p.MessageID
	if id == "" {
		id = fmt.Sprintf("<%x@mail.example.org>", len(p.Text)*7919+len(p.Subject))
	}
	lines := []string{
		"Received: by mx0047p1mdw1.sendgrid.net with SMTP id 6WCVv7KAWn Wed, 27 Jul 2016 20:53:06 +0000 (UTC)",
		"MIME-Version: 1.0",
		"From: " + p.From,
		"Date: Wed, 27 Jul 2016 13:53:02 -0700",
		"Message-ID: " + id,
		"Subject: " + p.Subject,
		"To: " + p.To,
	}
	if p.Cc != "" {
		lines = append(lines, "Cc: "+p.Cc)
	}
	if p.InReplyTo != "" {
		lines = append(lines, "In-Reply-To: "+p.InReplyTo)
	}
	if p.References != "" {
		// Long References are folded, as mail clients do.
		lines = append(lines, "References: "+strings.Join(strings.Fields(p.References), "\r\n "))
	}
	lines = append(lines, p.Headers...)
	if !p.Raw {
		lines = append(lines, "Content-Type: multipart/mixed; boundary=\"000000000000b1b1b1\"")
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// mimeBody is the message's MIME structure, after its headers (raw mode):
// the Content-Type header, a blank line, the parts.
func (p Post) mimeBody() string {
	const mixed, alt = "000000000000mixed", "000000000000alt"
	var b strings.Builder
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n", mixed)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", mixed, alt)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", alt, qp(p.Text))
	if p.HTML != "" {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: text/html; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n", alt, qp(p.HTML))
	}
	fmt.Fprintf(&b, "--%s--\r\n", alt)
	for _, f := range p.Attachments {
		disp := "attachment"
		if f.ContentID != "" {
			disp = "inline"
		}
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: %s; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n", mixed, f.Type, f.Name, disp, f.Name)
		if f.ContentID != "" {
			fmt.Fprintf(&b, "Content-ID: <%s>\r\nX-Attachment-Id: %s\r\n", f.ContentID, f.ContentID)
		}
		b.WriteString("\r\n")
		enc := base64.StdEncoding.EncodeToString(f.Data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\r\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", mixed)
	return b.String()
}

func (p Post) contentIDs() string {
	ids := map[string]string{}
	for i, f := range p.Attachments {
		if f.ContentID != "" {
			ids[f.ContentID] = fmt.Sprintf("attachment%d", i+1)
		}
	}
	if len(ids) == 0 {
		return ""
	}
	b, _ := json.Marshal(ids)
	return string(b)
}

// qp encodes text as quoted-printable.
func qp(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

// address is the address of "Name <addr>", or s trimmed.
func address(s string) string {
	s = strings.TrimSpace(s)
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j]
	}
	return s
}
