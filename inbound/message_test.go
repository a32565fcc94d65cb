package inbound_test

import (
	"bytes"
	"errors"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/inbound/inboundtest"
)

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

// Both forms SendGrid posts (parsed fields, or the raw MIME message) give
// the same message: sender, recipients from the envelope, subject, text,
// ids, headers and files.
func TestParseBothForms(t *testing.T) {
	for _, raw := range []bool{false, true} {
		p := inboundtest.Post{From: "Dara Murphy <Dara.M@Proton.example>", To: "reply+abc@in.example", Cc: "pat@proton.example",
			Subject: "Re: your case — ça va", Text: "Thanks.\n\nOn Tue wrote:\n> q", HTML: "<p>Thanks.</p>",
			MessageID: "<m-1@proton.example>", InReplyTo: "<q-1@certdesk.example>", Headers: []string{"X-Mailer: test"},
			Attachments: []inboundtest.File{{Name: "a.png", Type: "image/png", Data: png}, {Name: "logo.png", Type: "image/png", Data: png, ContentID: "logo"}},
			Raw:         raw}
		ct, body := p.Encode()
		m, err := inbound.Parse(ct, body)
		if err != nil {
			t.Fatalf("raw=%v: %v", raw, err)
		}
		if m.From != "dara.m@proton.example" || m.FromName != "Dara Murphy" || m.MessageID != "m-1@proton.example" ||
			len(m.InReplyTo) != 1 || m.InReplyTo[0] != "q-1@certdesk.example" || m.Subject != p.Subject ||
			!strings.HasPrefix(m.Text, "Thanks.") || m.Headers.Get("X-Mailer") != "test" || m.SPF != "pass" {
			t.Errorf("raw=%v: %+v", raw, m)
		}
		if len(m.To) != 2 || m.To[0] != "reply+abc@in.example" {
			t.Errorf("raw=%v: recipients %v", raw, m.To)
		}
		if len(m.Attachments) != 2 || !bytes.Equal(m.Attachments[0].Data, png) || m.Attachments[0].Filename != "a.png" || !m.Attachments[1].Inline {
			t.Errorf("raw=%v: attachments %+v", raw, m.Attachments)
		}
	}
}

// Files past the limits are left out and named; the text still comes.
func TestParseLimitsFiles(t *testing.T) {
	var files []inboundtest.File
	for i := range inbound.MaxAttachments + 2 {
		files = append(files, inboundtest.File{Name: "f" + string(rune('a'+i)) + ".png", Type: "image/png", Data: png})
	}
	files = append(files, inboundtest.File{Name: "big.pdf", Type: "application/pdf", Data: bytes.Repeat([]byte("x"), inbound.MaxAttachmentSize+1)})
	ct, body := inboundtest.Post{From: "a@b.example", To: "reply+x@in.example", Text: "see files", Attachments: files}.Encode()
	m, err := inbound.Parse(ct, body)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != inbound.MaxAttachments || len(m.Refused) != 3 || m.Text != "see files" {
		t.Errorf("kept %d, refused %v", len(m.Attachments), m.Refused)
	}
}

// Whatever is not an Inbound Parse post is ErrMalformed (a 400), never a
// panic: the wrong type, no body, no sender, no recipient, files without
// their attachment-info, broken JSON fields.
func TestParseRefusesMalformedPosts(t *testing.T) {
	form := func(fields map[string]string, files map[string]string) (string, []byte) {
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		for k, v := range files {
			f, _ := w.CreateFormFile(k, v)
			_, _ = f.Write(png)
		}
		_ = w.Close()
		return w.FormDataContentType(), buf.Bytes()
	}
	cases := map[string]func() (string, []byte){
		"json":            func() (string, []byte) { return "application/json", []byte(`{"from":"a@b.example"}`) },
		"no content type": func() (string, []byte) { return "", []byte("x") },
		"no boundary":     func() (string, []byte) { return "multipart/form-data", []byte("--x\r\n") },
		"truncated": func() (string, []byte) {
			ct, b := form(map[string]string{"from": "a@b.example"}, nil)
			return ct, b[:len(b)/2]
		},
		"empty form":   func() (string, []byte) { return form(nil, nil) },
		"no sender":    func() (string, []byte) { return form(map[string]string{"to": "r@in.example", "text": "hi"}, nil) },
		"no recipient": func() (string, []byte) { return form(map[string]string{"from": "a@b.example", "text": "hi"}, nil) },
		"bad envelope": func() (string, []byte) {
			return form(map[string]string{"from": "a@b.example", "to": "r@in.example", "envelope": "{"}, nil)
		},
		"bad attachment-info": func() (string, []byte) {
			return form(map[string]string{"from": "a@b.example", "to": "r@in.example", "attachment-info": "["}, nil)
		},
		"file without info": func() (string, []byte) {
			return form(map[string]string{"from": "a@b.example", "to": "r@in.example"}, map[string]string{"attachment1": "a.png"})
		},
		"info without file": func() (string, []byte) {
			return form(map[string]string{"from": "a@b.example", "to": "r@in.example", "attachment-info": `{"attachment1":{"filename":"a.png"}}`}, nil)
		},
		"bad charsets": func() (string, []byte) {
			return form(map[string]string{"from": "a@b.example", "to": "r@in.example", "charsets": "nope"}, nil)
		},
		"raw without headers": func() (string, []byte) { return form(map[string]string{"email": "no header block at all"}, nil) },
	}
	for name, post := range cases {
		ct, body := post()
		_, err := inbound.Parse(ct, body)
		if err == nil || !errors.Is(err, inbound.ErrMalformed) {
			t.Errorf("%s: %v, want ErrMalformed", name, err)
		}
	}
	if _, err := inbound.Parse("multipart/form-data; boundary=x", make([]byte, inbound.MaxPostSize+1)); !errors.Is(err, inbound.ErrTooLarge) {
		t.Errorf("an oversized post: %v, want ErrTooLarge", err)
	}
}

// Machines' mail is recognised, people's is not.
func TestIsAutomatic(t *testing.T) {
	parse := func(p inboundtest.Post) inbound.Message {
		t.Helper()
		if p.From == "" {
			p.From = "dara@proton.example"
		}
		p.To, p.Text = "reply+x@in.example", "text"
		ct, body := p.Encode()
		m, err := inbound.Parse(ct, body)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	for name, p := range map[string]inboundtest.Post{
		"auto-replied":      {Headers: []string{"Auto-Submitted: auto-replied"}},
		"auto-generated":    {Headers: []string{"Auto-Submitted: auto-generated; owner-email=x@y"}},
		"precedence bulk":   {Headers: []string{"Precedence: bulk"}},
		"precedence auto":   {Headers: []string{"Precedence: auto_reply"}},
		"x-autoreply":       {Headers: []string{"X-Autoreply: yes"}},
		"exchange oof":      {Headers: []string{"X-Auto-Response-Suppress: All"}},
		"a mailing list":    {Headers: []string{"List-Id: <news.example.org>"}},
		"certdesk's own":    {Headers: []string{inbound.LoopHeader + ": 01abc"}},
		"a bounce":          {NullSender: true, From: "MAILER-DAEMON@proton.example"},
		"a delivery report": {Headers: []string{"Content-Type: multipart/report; report-type=delivery-status; boundary=b"}},
	} {
		if auto, why := inbound.IsAutomatic(parse(p)); !auto || why == "" {
			t.Errorf("%s: not recognised", name)
		}
	}
	for name, p := range map[string]inboundtest.Post{
		"a person":               {},
		"auto-submitted no":      {Headers: []string{"Auto-Submitted: no"}},
		"precedence first-class": {Headers: []string{"Precedence: first-class"}},
	} {
		if auto, why := inbound.IsAutomatic(parse(p)); auto {
			t.Errorf("%s: taken for automatic (%s)", name, why)
		}
	}
}

// BenchmarkParseReply: a typical reply with a 200 kB photo, parsed and cut
// to its new text.
func BenchmarkParseReply(b *testing.B) {
	ct, body := inboundtest.Post{From: "Dara <dara@proton.example>", To: "reply+x@in.example", Subject: "Re: your case",
		Text:        "MS-900 in 2019.\n\n-- \nDara\n\nOn Tue, support wrote:\n" + strings.Repeat("> quoted line of the earlier mail\n", 40),
		Attachments: []inboundtest.File{{Name: "id.png", Type: "image/png", Data: append(png, bytes.Repeat([]byte{0}, 200<<10)...)}}}.Encode()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := inbound.Parse(ct, body)
		if err != nil {
			b.Fatal(err)
		}
		if inbound.NewText(m.Text) != "MS-900 in 2019." {
			b.Fatal(inbound.NewText(m.Text))
		}
	}
}
