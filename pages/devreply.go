package pages

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/inbound/inboundtest"
)

// devReply is the mailbox's Reply button: POST /dev/mail/:id/reply posts
// the text (and files) to certdesk's own inbound webhook as SendGrid's
// Inbound Parse would, from the message's recipient to its reply address,
// quoting the message below as a mail client does. Dev mode only: the post
// is unsigned, which nothing but dev mode accepts.
func (s *Pages) devReply(c *gin.Context) {
	ctx := c.Request.Context()
	m, err := s.desk.MailboxMessage(ctx, c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	if m.ReplyTo == "" {
		s.html.Error(c, certdesk.Errorf(certdesk.ECONFLICT, "this message has no reply address"))
		return
	}
	text := strings.TrimSpace(c.PostForm("body"))
	if text == "" {
		s.html.Error(c, certdesk.Invalid(map[string]string{"body": "write the reply"}))
		return
	}
	post := inboundtest.Post{From: m.To, To: m.ReplyTo, Subject: "Re: " + m.Subject,
		Text: text + "\n\nOn " + m.CreatedAt.UTC().Format("Mon, 2 Jan 2006 at 15:04") + ", certdesk wrote:\n" + quote(m.Text)}
	if c.Request.MultipartForm != nil {
		files, err := desk.ReadUploads(c.Request.MultipartForm.File["attachments"])
		if err != nil {
			s.html.Error(c, err)
			return
		}
		for _, f := range files {
			post.Attachments = append(post.Attachments, inboundtest.File{Name: f.Filename, Type: f.ContentType, Data: f.Data})
		}
	}
	req := post.Request(strings.TrimRight(s.cfg.PublicURL, "/") + inbound.WebhookPath)
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		s.html.Error(c, &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "the inbound webhook did not answer", Err: err})
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	var out desk.InboundResult
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		s.html.Error(c, certdesk.Errorf(certdesk.EUNAVAILABLE, "the inbound webhook answered %d: %s", resp.StatusCode, body))
		return
	}
	c.Redirect(http.StatusSeeOther, "/dev/mail/"+m.ID+"?replied="+url.QueryEscape(out.Outcome))
}

// quote quotes a message's text as a mail client does ("> " a line).
func quote(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		lines[i] = "> " + l
	}
	return strings.Join(lines, "\n")
}
