package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// The learner portal: my profiles and their connection, "Connect my
// certification profile", my cases in plain words. Every action is a plain
// form.

type portalCase struct {
	certdesk.Case
	Title string // what the case is, in plain words
	Next  string // what happens next, in plain words
}

func portalCaseOf(cs certdesk.Case) portalCase {
	return portalCase{Case: cs, Title: caseTitle(cs.Kind), Next: nextStep(cs)}
}

// caseTitle names a kind of case for its learner.
func caseTitle(k certdesk.Kind) string {
	switch k {
	case certdesk.KindConnect:
		return "Connect your certification profile"
	case certdesk.KindMerge:
		return "Merge duplicate profiles"
	case certdesk.KindRecovery:
		return "Recover access"
	case certdesk.KindUnmerge:
		return "Undo a merge of your profiles"
	case certdesk.KindInquiry:
		return "Your question"
	}
	return "Support case"
}

type portalView struct {
	Me          desk.Me
	Cases       []portalCase
	OpenConnect *certdesk.Case
	Connected   *desk.Profile
	CanAddSelf  bool // dev mode: the add-account form stands in for the learning site's
	// Moving is true while a case is between steps (status open): the page
	// refreshes itself until it settles.
	Moving bool
	Notice string
	Error  string
	// The question form: what was typed (kept on a refusal), its limits,
	// and the address learners may write to instead.
	Ask            desk.InquiryRequest
	Limits         uploadLimits
	SupportAddress string
}

// portal is GET /portal.
func (s *Pages) portal(c *gin.Context) {
	s.renderPortal(c, http.StatusOK, noticeOfPortal(c.Query("done")), nil)
}

func (s *Pages) renderPortal(c *gin.Context, code int, notice string, refusal error) {
	s.renderPortalAsking(c, code, notice, refusal, desk.InquiryRequest{})
}

// renderPortalAsking renders the portal with what the question form held.
func (s *Pages) renderPortalAsking(c *gin.Context, code int, notice string, refusal error, ask desk.InquiryRequest) {
	p := request.Caller(c)
	if p.Role.Staff() {
		c.Redirect(http.StatusSeeOther, "/console")
		return
	}
	ctx := c.Request.Context()
	// The cases first, the profiles after: a case that completed between
	// the two reads then shows with its outcome, never an outcome with a
	// stale profile (and a case still moving keeps the page refreshing).
	scope, err := s.desk.LearnerScope(ctx, p)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	page, err := s.store.ListCases(ctx, store.CaseFilter{Learner: &scope, Limit: 50})
	if err != nil {
		s.html.Error(c, err)
		return
	}
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := portalView{Me: desk.LearnerView(l), Notice: notice, CanAddSelf: s.dev, Ask: ask, Limits: portalUploads,
		SupportAddress: s.cfg.Inbound.SupportAddress}
	if refusal != nil {
		v.Error = certdesk.ErrorMessage(refusal)
	}
	// The profile connected to this learning profile is connected,
	// whichever account owns it: Connect is not offered again.
	if lp := v.Me.LearningProfile; lp != nil && lp.ConnectedProfileID != nil {
		for _, pr := range v.Me.CertificationProfiles {
			if pr.ID == *lp.ConnectedProfileID {
				pr := pr
				v.Connected = &pr
			}
		}
	}
	for _, cs := range page.Items {
		v.Cases = append(v.Cases, portalCaseOf(cs))
		v.Moving = v.Moving || cs.Status == certdesk.StatusOpen
		if cs.Kind == certdesk.KindConnect && !cs.Status.Terminal() && v.OpenConnect == nil {
			cs := cs
			v.OpenConnect = &cs
		}
	}
	s.html.Render(c, code, "portal", "My certification profile", v)
}

// portalConnect is POST /portal/connect: "Connect my certification profile".
func (s *Pages) portalConnect(c *gin.Context) {
	_, _, err := s.desk.OpenConnect(c.Request.Context(), request.Caller(c))
	if err != nil {
		s.renderPortal(c, respond.Status(err), "", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/portal?done=connect")
}

// portalAddAccount is POST /portal/accounts (dev mode: it stands in for the
// learning site's "Add account").
func (s *Pages) portalAddAccount(c *gin.Context) {
	p := request.Caller(c)
	l, err := s.store.Learner(c.Request.Context(), p.AccountID)
	if err == nil && l.LearningProfile == nil {
		err = certdesk.Errorf(certdesk.ECONFLICT, "you have no learning profile")
	}
	if err == nil {
		_, _, err = s.desk.AddAccount(c.Request.Context(), p, l.LearningProfile.ID, c.PostForm("email"), c.PostForm("kind"), "")
	}
	if err != nil {
		s.renderPortal(c, respond.Status(err), "", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/portal?done=account")
}

func noticeOfPortal(done string) string {
	switch done {
	case "connect":
		return "We are on it: your connection request is below."
	case "account":
		return "The account is added to your learning profile."
	case "message":
		return "Your message is on the case: a support agent reads it."
	case "question":
		return "Your question is with the support team: the answer comes here and by email."
	}
	return ""
}

// nextStep says what happens next in a learner's case, in plain words.
func nextStep(cs certdesk.Case) string {
	switch cs.Status {
	case certdesk.StatusOpen:
		if cs.Kind == certdesk.KindConnect {
			return "We are looking at your profiles. If you have duplicates, a support agent merges them first."
		}
		return "We are working on it."
	case certdesk.StatusAwaitingLearner:
		switch cs.Kind {
		case certdesk.KindConnect:
			return "Your move: add the personal account that owns your certification profile to your learning profile (we emailed you the steps)."
		case certdesk.KindRecovery:
			return "Your move: check your email — we need you to confirm your address or answer a question."
		}
		return "Your move: check your email."
	case certdesk.StatusAwaitingAgent:
		if cs.Escalated {
			return "A support agent reviews it; it has waited longer than usual and a supervisor is on it."
		}
		return "A support agent reviews it, usually within two days. We email you the outcome."
	case certdesk.StatusCoolingOff:
		return "Approved. For your safety the change waits a few days; we emailed every address on file."
	case certdesk.StatusCompleted:
		return "Done."
	case certdesk.StatusRejected:
		return "Closed without the change; we emailed you why."
	case certdesk.StatusCancelled:
		return "Stopped; nothing was changed."
	case certdesk.StatusExpired:
		return "Closed because we did not hear back in time. You can ask again."
	case certdesk.StatusFailed:
		return "Something went wrong on our side; support has been told."
	}
	return ""
}

// portalAsk is POST /portal/inquiries: the learner's question, with files,
// opens an inquiry; they land on it.
func (s *Pages) portalAsk(c *gin.Context) {
	ctx := c.Request.Context()
	ask := desk.InquiryRequest{Subject: c.PostForm("subject"), Body: formText(c, "body")}
	var files []store.NewAttachment
	var err error
	if c.Request.MultipartForm != nil {
		files, err = desk.ReadUploads(c.Request.MultipartForm.File["files"])
	}
	var cs certdesk.Case
	if err == nil {
		cs, err = s.desk.AskQuestion(ctx, request.Caller(c), ask, files)
	}
	if err != nil {
		respond.LogIfInternal(c, err)
		s.renderPortalAsking(c, respond.Status(err), "", err, ask)
		return
	}
	c.Redirect(http.StatusSeeOther, "/portal/cases/"+cs.ID+"?done=question")
}
