package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// Dev mode's captured mailbox: every message the worker "sent", rendered,
// with its links clickable. Not registered outside `certdesk dev`.

type capturedJSON struct {
	ID        string      `json:"id"`
	To        string      `json:"to"`
	Subject   string      `json:"subject"`
	Kind      string      `json:"kind"`
	CaseID    string      `json:"case_id"`
	Step      string      `json:"step"`
	Links     []mail.Link `json:"links"`
	Text      string      `json:"text"`
	CreatedAt time.Time   `json:"created_at"`
}

func toCapturedJSON(m store.CapturedMail) capturedJSON {
	out := capturedJSON{ID: m.ID, To: m.ToAddr, Subject: m.Subject, Kind: m.Kind, CaseID: m.CaseID, Step: m.Step, Text: m.Text, CreatedAt: m.CreatedAt}
	_ = json.Unmarshal(m.Links, &out.Links)
	if out.Links == nil {
		out.Links = []mail.Link{}
	}
	return out
}

func (s *Server) capturedMails(c *gin.Context) ([]capturedJSON, bool) {
	ms, err := s.store.CapturedMails(c.Request.Context(), c.Query("to"), c.Query("case"), 200)
	if err != nil {
		fail(c, err)
		return nil, false
	}
	out := make([]capturedJSON, len(ms))
	for i, m := range ms {
		out[i] = toCapturedJSON(m)
	}
	return out, true
}

// devMailJSON: GET /api/v1/dev/mail?to=&case=, newest first.
func (s *Server) devMailJSON(c *gin.Context) {
	if ms, ok := s.capturedMails(c); ok {
		c.JSON(http.StatusOK, listJSON[capturedJSON]{Items: ms})
	}
}

type devMailView struct {
	Mails    []capturedJSON
	To, Case string
	Open     *capturedJSON
}

func (s *Server) devMailPage(c *gin.Context) {
	if ms, ok := s.capturedMails(c); ok {
		s.pages.Render(c.Writer, http.StatusOK, "dev_mail", s.pageData(c, "Mailbox (dev)", devMailView{Mails: ms, To: c.Query("to"), Case: c.Query("case")}))
	}
}

func (s *Server) devMailMessage(c *gin.Context) {
	m, err := s.store.CapturedMail(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	open := toCapturedJSON(m)
	s.pages.Render(c.Writer, http.StatusOK, "dev_mail", s.pageData(c, m.Subject, devMailView{Open: &open}))
}

// devMailHTML shows a message's HTML part as its own document: emails use
// inline styles, so this page alone allows them (and still no script).
func (s *Server) devMailHTML(c *gin.Context) {
	m, err := s.store.CapturedMail(c.Request.Context(), c.Param("id"))
	if err != nil {
		fail(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
	c.Header("X-Frame-Options", "SAMEORIGIN")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(m.HTML))
}
