package pages

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/i18n"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// The learner portal: my profiles and their connection, "Connect my
// certification profile", my cases in plain words. Every action is a plain
// form.

type portalCase struct {
	certdesk.Case
	Title     string // what the case is, in plain words
	State     string // where it is, in plain words ("Waiting for you")
	Next      string // what happens next, in plain words
	Reference string // the short reference people quote (CD-4F7K2)
	Opened    string // the day it opened, the locale's way
}

func portalCaseOf(cs certdesk.Case, l i18n.Locale) portalCase {
	return portalCase{Case: cs, Title: l.T(caseTitle(cs.Kind)), State: l.T(stateWords(cs)), Next: l.T(nextStep(cs)),
		Reference: certdesk.Reference(cs.ID), Opened: l.Date(cs.CreatedAt)}
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

// merging is whether a connect case waits on the merge of its duplicates
// (it stays open meanwhile: the merge case is the one with the agent).
func merging(cs certdesk.Case) bool {
	if cs.Kind != certdesk.KindConnect || cs.Status != certdesk.StatusOpen {
		return false
	}
	var d certdesk.ConnectDetails
	return json.Unmarshal(cs.Details, &d) == nil && d.MergeCaseID != ""
}

// stateWords says where a case is, in the learner's words (never a status
// name).
func stateWords(cs certdesk.Case) string {
	switch cs.Status {
	case certdesk.StatusOpen:
		if merging(cs) {
			return "With our support team"
		}
		return "In progress"
	case certdesk.StatusAwaitingLearner:
		return "Waiting for you"
	case certdesk.StatusAwaitingAgent:
		return "With our support team"
	case certdesk.StatusCoolingOff:
		return "Approved: waiting a few days for your safety"
	case certdesk.StatusCompleted:
		switch cs.Resolution {
		case certdesk.ConnectConnected:
			return "Completed: connected"
		case certdesk.ConnectAlreadyConnected:
			return "Completed: already connected"
		case certdesk.MergeMerged, certdesk.MergeAlreadyMerged:
			return "Completed: profiles merged"
		case certdesk.ResolutionRecovered:
			return "Completed: access recovered"
		}
		return "Completed"
	case certdesk.StatusRejected:
		return "Closed without a change"
	case certdesk.StatusCancelled:
		return "Stopped"
	case certdesk.StatusExpired:
		return "Closed: no answer in time"
	case certdesk.StatusFailed:
		return "Stopped by a problem on our side"
	}
	return "In progress"
}

type portalView struct {
	L           i18n.Locale
	Langs       []langChoice
	Me          desk.Me
	Cases       []portalCase
	OpenConnect *portalCase
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
	s.renderPortal(c, http.StatusOK, c.Query("done"), nil)
}

func (s *Pages) renderPortal(c *gin.Context, code int, done string, refusal error) {
	s.renderPortalAsking(c, code, done, refusal, desk.InquiryRequest{})
}

// renderPortalAsking renders the portal with what the question form held;
// done names the learner's move just made (its notice).
func (s *Pages) renderPortalAsking(c *gin.Context, code int, done string, refusal error, ask desk.InquiryRequest) {
	p := request.Caller(c)
	if p.Role.Staff() {
		c.Redirect(http.StatusSeeOther, "/console")
		return
	}
	ctx := c.Request.Context()
	l := s.learnerLocale(c)
	// The cases first, the profiles after: a case that completed between
	// the two reads then shows with its outcome, never an outcome with a
	// stale profile (and a case still moving keeps the page refreshing).
	scope, err := s.desk.LearnerScope(ctx, p)
	if err != nil {
		s.learnerError(c, l, err)
		return
	}
	page, err := s.store.ListCases(ctx, store.CaseFilter{Learner: &scope, Limit: 50})
	if err != nil {
		s.learnerError(c, l, err)
		return
	}
	lr, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		s.learnerError(c, l, err)
		return
	}
	v := portalView{L: l, Langs: langChoices(c, l), Me: desk.LearnerView(lr), CanAddSelf: s.dev, Ask: ask, Limits: portalUploads,
		SupportAddress: s.cfg.Inbound.SupportAddress}
	if refusal != nil {
		v.Error = l.T(certdesk.ErrorMessage(refusal))
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
		pc := portalCaseOf(cs, l)
		v.Cases = append(v.Cases, pc)
		v.Moving = v.Moving || cs.Status == certdesk.StatusOpen && !merging(cs)
		if cs.Kind == certdesk.KindConnect && !cs.Status.Terminal() && v.OpenConnect == nil {
			v.OpenConnect = &pc
		}
	}
	v.Notice = l.T(noticeOfPortal(done, v.Connected != nil))
	s.html.Render(c, code, "portal", l.T("My certification profile"), v)
}

// portalConnect is POST /portal/connect: "Connect my certification
// profile". The page that follows shows the case once its workflow has
// looked at the profiles (connected, waiting for an account, or merging
// duplicates), not the moment between.
func (s *Pages) portalConnect(c *gin.Context) {
	ctx := withLanguage(c)
	cs, _, err := s.desk.OpenConnect(ctx, request.Caller(c))
	if err != nil {
		s.renderPortal(c, respond.Status(err), "", err)
		return
	}
	s.settle(c, cs)
	c.Redirect(http.StatusSeeOther, "/portal?done=connect")
}

// settle waits, briefly, for a case's workflow to take the learner's move,
// so the page after it is not stale (the page refreshes itself if it was
// not enough).
func (s *Pages) settle(c *gin.Context, cs certdesk.Case) {
	if _, err := s.desk.Settled(c.Request.Context(), cs); err != nil {
		slog.InfoContext(c.Request.Context(), "portal: case not settled yet", "case", cs.ID, "err", err)
	}
}

// portalAddAccount is POST /portal/accounts (dev mode: it stands in for the
// learning site's "Add account"). A connect case waiting for the account
// resumes; the page that follows shows where that led.
func (s *Pages) portalAddAccount(c *gin.Context) {
	ctx := c.Request.Context()
	p := request.Caller(c)
	l, err := s.store.Learner(ctx, p.AccountID)
	if err == nil && l.LearningProfile == nil {
		err = certdesk.Errorf(certdesk.ECONFLICT, "you have no learning profile")
	}
	var waiting *certdesk.Case
	if err == nil {
		waiting = s.openConnectCase(c, p)
		_, _, err = s.desk.AddAccount(ctx, p, l.LearningProfile.ID, c.PostForm("email"), c.PostForm("kind"), "")
	}
	if err != nil {
		s.renderPortal(c, respond.Status(err), "", err)
		return
	}
	if waiting != nil {
		s.settle(c, *waiting)
	}
	c.Redirect(http.StatusSeeOther, "/portal?done=account")
}

// openConnectCase is the learner's connect case under way, if any.
func (s *Pages) openConnectCase(c *gin.Context, p *certdesk.Principal) *certdesk.Case {
	ctx := c.Request.Context()
	scope, err := s.desk.LearnerScope(ctx, p)
	if err != nil {
		return nil
	}
	page, err := s.store.ListCases(ctx, store.CaseFilter{Learner: &scope, Kind: certdesk.KindConnect, Limit: 5})
	if err != nil {
		return nil
	}
	for _, cs := range page.Items {
		if !cs.Status.Terminal() {
			return &cs
		}
	}
	return nil
}

// noticeOfPortal confirms the learner's move, as things stand now: once
// the profile is connected, it says so rather than "we are on it".
func noticeOfPortal(done string, connected bool) string {
	switch done {
	case "connect":
		if connected {
			return "Your certification profile is connected."
		}
		return "We are on it: your connection request is below."
	case "account":
		if connected {
			return "The account is added, and your certification profile is connected."
		}
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
		if merging(cs) {
			return "You have more than one certification profile: a support agent checks that they are all yours and merges them, then we connect the result. We email you the outcome."
		}
		return "We are working on it: this page updates by itself."
	case certdesk.StatusAwaitingLearner:
		switch cs.Kind {
		case certdesk.KindConnect:
			return "Add the personal account that owns your certification profile to your learning profile: we emailed you the steps."
		case certdesk.KindRecovery:
			return "Check your email: we need you to confirm your address or answer a question."
		}
		return "Check your email: we need something from you."
	case certdesk.StatusAwaitingAgent:
		if cs.Escalated {
			return "A support agent reviews it; it has waited longer than usual and a supervisor is on it."
		}
		return "A support agent reviews it, usually within two days. We email you the outcome."
	case certdesk.StatusCoolingOff:
		return "Approved. For your safety the change waits a few days; we emailed every address on file."
	case certdesk.StatusCompleted:
		switch cs.Kind {
		case certdesk.KindConnect:
			return "Your certifications, exams and transcript now show in your learning profile."
		case certdesk.KindRecovery:
			return "Your certification profile now belongs to your new account: sign in with it."
		}
		return "Your case is complete. We emailed you the details."
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
	ctx := withLanguage(c)
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

// langCookie keeps the language a learner chose with the switcher.
const langCookie = "lang"

// learnerLocale is the language a learner's page is in: ?lang= (which the
// switcher sets, and is then remembered), else the one chosen before in
// this browser, else the one kept on the signed-in learner's learning
// profile (chosen on another device), else the browser's Accept-Language.
func (s *Pages) learnerLocale(c *gin.Context) i18n.Locale {
	asked := c.Query("lang")
	stored, _ := c.Cookie(langCookie)
	if p := request.Caller(c); !i18n.Supported(asked) && !i18n.Supported(stored) && p != nil && p.Role == certdesk.RoleLearner && s.store != nil {
		stored, _ = s.store.LanguageOf(c.Request.Context(), p.Email) // none known: the browser's
	}
	l := i18n.Choose(asked, stored, c.GetHeader("Accept-Language"))
	if i18n.Supported(asked) && asked != stored {
		http.SetCookie(c.Writer, &http.Cookie{Name: langCookie, Value: l.Lang, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode})
	}
	return l
}

// langChoice is one language of the switcher: this page in it.
type langChoice struct {
	Lang, Name, Href string
	Current          bool
}

func langChoices(c *gin.Context, l i18n.Locale) []langChoice {
	var out []langChoice
	for _, lang := range i18n.Langs {
		q := url.Values{}
		for k, v := range c.Request.URL.Query() {
			if k != "lang" && k != "done" {
				q[k] = v
			}
		}
		q.Set("lang", lang)
		out = append(out, langChoice{Lang: lang, Name: i18n.Names[lang], Href: c.Request.URL.Path + "?" + q.Encode(), Current: lang == l.Lang})
	}
	return out
}

// learnerError is the error page in the learner's language.
func (s *Pages) learnerError(c *gin.Context, l i18n.Locale, err error) {
	s.html.ErrorIn(c, err, l, langChoices(c, l))
}
