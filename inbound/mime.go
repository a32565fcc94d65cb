package inbound

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/certdesk/certdesk"
)

// The raw form, the headers and the charsets are read here rather than by
// the SendGrid library: its header parser drops folded lines (long
// References) and repeated headers, and its raw parser panics on a message
// with CRLF line ends and drops errors.

// maxDepth bounds the nesting of multipart bodies.
const maxDepth = 8

// parseRaw reads the whole MIME message of a raw post.
func parseRaw(raw string) (Message, error) {
	var m Message
	head, body := splitMessage(raw)
	m.Headers = parseHeaders(head)
	if len(m.Headers) == 0 {
		return m, errors.New("email: no headers")
	}
	m.setIDs()
	m.Subject = decodeWords(m.Headers.Get("Subject"))
	m.From, m.FromName = parseFrom(m.Headers.Get("From"))
	m.To = addressList(strings.Join(m.Headers.Values("To"), ", "), strings.Join(m.Headers.Values("Cc"), ", "))
	if err := m.walk(m.Headers, strings.NewReader(body), 0); err != nil {
		return m, fmt.Errorf("email: %v", err)
	}
	return m, nil
}

// splitMessage cuts a message at the blank line after its headers.
func splitMessage(raw string) (head, body string) {
	i, n := len(raw), 0
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if j := strings.Index(raw, sep); j >= 0 && j < i {
			i, n = j, len(sep)
		}
	}
	if n == 0 {
		return raw, ""
	}
	return raw[:i], raw[i+n:]
}

// walk reads one MIME part: the first plain-text and HTML bodies, and the
// attachments.
func (m *Message) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > maxDepth {
		return errors.New("parts nested too deep")
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(mt, "multipart/") {
		if params["boundary"] == "" {
			return fmt.Errorf("%s without a boundary", mt)
		}
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	data, err := io.ReadAll(io.LimitReader(transferDecoder(h.Get("Content-Transfer-Encoding"), body), MaxAttachmentSize+1))
	if err != nil {
		return fmt.Errorf("%s part: %v", mt, err)
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	filename := decodeWords(dparams["filename"])
	if filename == "" {
		filename = decodeWords(params["name"])
	}
	switch {
	case disp != "attachment" && filename == "" && mt == "text/plain":
		// Apple Mail splits the text around an inline image: the pieces
		// are one text.
		if m.Text != "" {
			m.Text += "\n"
		}
		m.Text += decodeCharset(string(data), params["charset"])
	case disp != "attachment" && filename == "" && mt == "text/html" && m.HTML == "":
		m.HTML = decodeCharset(string(data), params["charset"])
	case disp == "attachment" || filename != "" || !strings.HasPrefix(mt, "text/"):
		if filename == "" && mt == "message/rfc822" {
			filename = "message.eml"
		}
		m.addAttachment(Attachment{Filename: filename, ContentType: mt, Inline: h.Get("Content-Id") != "" && disp != "attachment", Data: data})
	}
	return nil
}

// transferDecoder undoes a part's Content-Transfer-Encoding.
func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Text{r: bufio.NewReader(r)})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Text passes only the base64 alphabet: mail wraps its lines.
type base64Text struct{ r *bufio.Reader }

func (b *base64Text) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c, err := b.r.ReadByte()
		if err != nil {
			if n > 0 && err == io.EOF {
				return n, nil
			}
			return n, err
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
			p[n] = c
			n++
		}
	}
	return n, nil
}

// parseHeaders reads a header block leniently: folded lines are unfolded,
// repeated headers kept, lines that are not headers skipped.
func parseHeaders(block string) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	var key string
	for _, line := range strings.Split(block, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			if len(h) > 0 {
				break // the end of the headers
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if vs := h[key]; key != "" && len(vs) > 0 {
				vs[len(vs)-1] = strings.TrimSpace(vs[len(vs)-1] + " " + strings.TrimSpace(line))
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			key = ""
			continue
		}
		key = textproto.CanonicalMIMEHeaderKey(k)
		h[key] = append(h[key], strings.TrimSpace(v))
	}
	return h
}

// messageIDs reads the <id> of Message-ID, In-Reply-To and References.
func messageIDs(s string) []string {
	var ids []string
	for len(ids) < 100 {
		i := strings.IndexByte(s, '<')
		j := strings.IndexByte(s[i+1:], '>')
		if i < 0 || j < 0 {
			break
		}
		if id := strings.TrimSpace(s[i+1 : i+1+j]); id != "" {
			ids = append(ids, id)
		}
		s = s[i+2+j:]
	}
	if len(ids) == 0 && strings.TrimSpace(s) != "" && !strings.ContainsAny(s, "<>") {
		ids = strings.Fields(s) // some clients leave the brackets out
	}
	return ids
}

// parseFrom reads a From header: the canonical address and the name.
func parseFrom(s string) (addr, name string) {
	if a, err := addressParser.Parse(s); err == nil {
		return certdesk.NormalizeEmail(a.Address), a.Name
	}
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return certdesk.NormalizeEmail(s[i+1 : j]), strings.Trim(strings.TrimSpace(decodeWords(s[:i])), `"`)
	}
	if strings.Contains(s, "@") {
		return certdesk.NormalizeEmail(s), ""
	}
	return "", ""
}

// addressList reads address headers into canonical addresses, once each.
func addressList(headers ...string) []string {
	var out []string
	add := func(a string) {
		if a = certdesk.NormalizeEmail(a); a != "" && !contains(out, a) {
			out = append(out, a)
		}
	}
	for _, h := range headers {
		if strings.TrimSpace(h) == "" {
			continue
		}
		if list, err := addressParser.ParseList(h); err == nil {
			for _, a := range list {
				add(a.Address)
			}
			continue
		}
		for _, part := range strings.Split(h, ",") {
			if a, _ := parseFrom(part); a != "" {
				add(a)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// wordDecoder decodes RFC 2047 encoded words in any charset WHATWG knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}}

var addressParser = &mail.AddressParser{WordDecoder: wordDecoder}

func decodeWords(s string) string {
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// decodeCharset converts text in a charset to UTF-8. Text said to be UTF-8
// (or not said) that is not, is read as Windows-1252, as mail clients
// mean; what cannot be read becomes U+FFFD.
func decodeCharset(s, charset string) string {
	charset = strings.ToLower(strings.TrimSpace(charset))
	if utf8.ValidString(s) && (charset == "" || charset == "utf-8" || charset == "utf8" || charset == "us-ascii") {
		return s
	}
	if charset == "" || charset == "utf-8" || charset == "utf8" || charset == "us-ascii" {
		charset = "windows-1252"
	}
	if enc, err := htmlindex.Get(charset); err == nil {
		if d, err := enc.NewDecoder().String(s); err == nil {
			return strings.ToValidUTF8(d, "\uFFFD")
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
