package pages

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/i18n"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// The pages of email links, /l/{token}. GET and HEAD never change anything
// (mail scanners open links): GET says what the link will do, with a button.
// POST uses the token (once, atomically) and signals the case's workflow,
// then waits briefly to show the outcome.

type linkView struct {
	State   string // live, used, expired, superseded, unknown, ended, unavailable, done, processing
	Title   string
	Explain string
	Button  string
	Reply   bool // the link carries a reply (a text field)
	Action  string
	Outcome string
	Error   string
	Reply0  string // the reply typed before an error, to keep it
	// Next and NextText are where the page sends the reader on (the
	// portal, or the recovery form for someone who cannot sign in).
	Next, NextText string
	// Question is the agent's question a reply link answers; Facts what a
	// "this wasn't me" link would stop (the MCID, the new account, when).
	Question string
	Facts    []linkFact
	L        i18n.Locale
	Langs    []langChoice
}

// linkFact is one line of what a link is about.
type linkFact struct{ Label, Value string }

// purposeTexts say, before the learner confirms, what a link does.
var purposeTexts = map[string][3]string{
	workflows.PurposeAccountAdded:   {"Tell us you've added your personal account", "Use this once you have added, in your learning profile's settings, the personal account that owns your certification profile. We then connect the two.", "I've added it"},
	workflows.PurposeVerifyContact:  {"Confirm your email address", "Confirming sends your recovery request to our support team.", "Confirm my address"},
	workflows.PurposeReply:          {"Answer the support agent", "Your answer is added to your recovery request, and the agent reviewing it is told.", "Send my answer"},
	workflows.PurposeCancelRecovery: {"Stop the recovery of this certification profile", "If you did not ask to move this certification profile to a new account, stop it here. Nothing will change on the profile, and our security team will look at the request.", "This wasn't me — stop it"},
}

// stateTexts explain a link that cannot be used, and how to get a new one.
var stateTexts = map[string][2]string{
	store.TokenUsed:       {"This link was already used", "Each link works once, and this one has done its job. If something is still missing, reply to the email it came in, or ask for a new one from your learning profile."},
	store.TokenExpired:    {"This link has expired", "Links work for a limited time. Ask again from your learning profile (or send a new recovery request) and we will email a new link."},
	store.TokenSuperseded: {"This link was replaced by a newer one", "We sent you a newer email for this step; use the link in that one."},
	"unknown":             {"We don't know this link", "Check that the whole link was copied from the email. If it still does not work, ask for a new one from your learning profile."},
	"ended":               {"This case has already ended", "There is nothing left for this link to do. Your learning profile shows the outcome."},
	"unavailable":         {"We could not take this in right now", "Nothing was changed. Please try the button again in a minute."},
}

// linkToken sets the headers of every link page (the token must not leak
// through a referrer or a cache) and reads the token; a string that cannot
// be a token gets the unknown-link page.
func (s *Pages) linkToken(c *gin.Context) (raw, hash string, ok bool) {
	h := c.Writer.Header()
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Robots-Tag", "noindex")
	raw = c.Param("token")
	if hash, ok = certdesk.HashToken(raw); !ok {
		s.renderLink(c, http.StatusNotFound, stateView("unknown"))
	}
	return raw, hash, ok
}

// linkPage answers GET and HEAD: it only reads.
func (s *Pages) linkPage(c *gin.Context) {
	raw, hash, ok := s.linkToken(c)
	if !ok {
		return
	}
	t, err := s.store.LinkTokenByHash(c.Request.Context(), hash)
	if errors.Is(err, certdesk.ErrNotFound) {
		s.renderLink(c, http.StatusNotFound, stateView("unknown"))
		return
	} else if err != nil {
		respond.Fail(c, err)
		return
	}
	if st := t.State(s.now()); st != store.TokenLive {
		s.renderLink(c, http.StatusGone, stateView(st))
		return
	}
	// A link whose case has ended has nothing left to do: say so now,
	// not after the button.
	if cs, err := s.store.Case(c.Request.Context(), t.CaseID); err == nil && cs.Status.Terminal() {
		s.renderLink(c, http.StatusGone, endedView(cs))
		return
	} else if err != nil && !errors.Is(err, certdesk.ErrNotFound) {
		respond.Fail(c, err)
		return
	}
	v := liveView(t.Purpose, raw)
	if cs, err := s.store.Case(c.Request.Context(), t.CaseID); err == nil {
		v = aboutLink(v, t, cs, s.learnerLocale(c))
	}
	s.renderLink(c, http.StatusOK, v)
}

// endedView is the page of a link whose case has ended, with the way on:
// the portal for a learner's case, the recovery form for a recovery (its
// requester may have no account to sign in with).
func endedView(cs certdesk.Case) linkView {
	v := stateView("ended")
	v.Explain, v.Outcome = "There is nothing left for this link to do: the case ended.", outcomeText(cs)
	v.Next, v.NextText = "/portal", "See your cases in your learning profile"
	if cs.Kind == certdesk.KindRecovery {
		v.Next, v.NextText = "/portal/recovery", "Send a new recovery request"
	}
	return v
}

func stateView(state string) linkView {
	t := stateTexts[state]
	return linkView{State: state, Title: t[0], Explain: t[1]}
}

func liveView(purpose, raw string) linkView {
	t, ok := purposeTexts[purpose]
	if !ok {
		t = [3]string{"Continue your support case", "Confirm to continue.", "Continue"}
	}
	return linkView{State: "live", Title: t[0], Explain: t[1], Button: t[2], Reply: purpose == workflows.PurposeReply, Action: "/l/" + raw}
}

// renderLink renders a link page in the learner's language, always with
// the way on (the portal, unless the page names another).
func (s *Pages) renderLink(c *gin.Context, code int, v linkView) {
	if c.Request.Method == http.MethodHead {
		c.Status(code)
		return
	}
	l := s.learnerLocale(c)
	v.L, v.Langs = l, langChoices(c, l)
	if v.Next == "" {
		v.Next, v.NextText = "/portal", "See your cases in your learning profile"
	}
	v.Title, v.Explain, v.Button, v.Outcome = l.T(v.Title), l.T(v.Explain), l.T(v.Button), l.T(v.Outcome)
	v.NextText, v.Error = l.T(v.NextText), l.T(v.Error)
	for i := range v.Facts {
		v.Facts[i].Label = l.T(v.Facts[i].Label)
	}
	s.html.Render(c, code, "link", v.Title, v)
}

// aboutLink adds to a live link's page what it is about: the agent's
// question for a reply, the change it stops for "this wasn't me".
func aboutLink(v linkView, t store.LinkToken, cs certdesk.Case, l i18n.Locale) linkView {
	if cs.Kind != certdesk.KindRecovery {
		return v
	}
	var d certdesk.RecoveryDetails
	if json.Unmarshal(cs.Details, &d) != nil {
		return v
	}
	switch t.Purpose {
	case workflows.PurposeReply:
		for _, r := range d.InfoRequests {
			if r.Step == t.Step || v.Question == "" {
				v.Question = r.Message
			}
		}
	case workflows.PurposeCancelRecovery:
		if d.ChosenMCID != "" {
			v.Facts = append(v.Facts, linkFact{"Certification profile", "MCID " + d.ChosenMCID})
		}
		if d.Claim.NewAccountEmail != "" {
			v.Facts = append(v.Facts, linkFact{"The account it would move to", d.Claim.NewAccountEmail})
		}
		v.Facts = append(v.Facts, linkFact{"Asked on", l.Date(cs.CreatedAt)})
		if d.CoolingOffEndsAt != nil {
			v.Facts = append(v.Facts, linkFact{"The change would take effect on", l.Date(*d.CoolingOffEndsAt)})
		}
	}
	return v
}

// useLink answers POST: it uses the token and signals the workflow in one
// step (the token stays unused if the signal fails, see desk.UseLink), then
// shows where the link led.
func (s *Pages) useLink(c *gin.Context) {
	raw, hash, ok := s.linkToken(c)
	if !ok {
		return
	}
	if err := s.auth.Limit(c, linkPerClient, request.ClientAddr(c)); err != nil {
		v := stateView("unavailable")
		v.Title, v.Explain = "Too many tries", "Nothing was changed. Please try again in a minute."
		s.renderLink(c, respond.Status(err), v)
		return
	}
	ctx := c.Request.Context()
	reply := strings.TrimSpace(c.PostForm("reply"))
	t, before, err := s.desk.UseLink(ctx, hash, reply)
	switch certdesk.ErrorCode(err) {
	case "":
	case certdesk.ENOTFOUND:
		s.renderLink(c, http.StatusNotFound, stateView("unknown"))
		return
	case certdesk.EGONE:
		if t.ID == "" {
			s.renderLink(c, http.StatusGone, stateView("ended"))
		} else if st := t.State(s.now()); st != store.TokenLive {
			s.renderLink(c, http.StatusGone, stateView(st))
		} else if cs, err := s.store.Case(ctx, t.CaseID); err == nil {
			s.renderLink(c, http.StatusGone, endedView(cs))
		} else {
			s.renderLink(c, http.StatusGone, stateView("ended"))
		}
		return
	case certdesk.EINVALID:
		v := liveView(t.Purpose, raw)
		if cs, err := s.store.Case(ctx, t.CaseID); err == nil {
			v = aboutLink(v, t, cs, s.learnerLocale(c))
		}
		v.Error, v.Reply0 = certdesk.ErrorFields(err)["reply"], reply
		s.renderLink(c, http.StatusBadRequest, v)
		return
	default:
		respond.LogIfInternal(c, err)
		s.renderLink(c, http.StatusServiceUnavailable, stateView("unavailable"))
		return
	}
	// The signal is in (durable, with the token's use); the page tells
	// where it led, as the workflow answers.
	v := linkView{State: "done", Title: "Thank you"}
	if after, err := s.desk.LinkOutcome(ctx, before, t.ID); err == nil {
		v.Outcome = outcomeText(after)
	} else {
		slog.InfoContext(ctx, "link taken, outcome not known yet", "case", before.ID, "err", err)
		v.State, v.Outcome = "processing", "We have it, and your case is being updated. Your learning profile will show the result in a moment."
	}
	s.renderLink(c, http.StatusOK, v)
}

// outcomeText says where a case is now, in plain words.
func outcomeText(cs certdesk.Case) string {
	switch cs.Status {
	case certdesk.StatusAwaitingAgent:
		return "Your case is now with our support team. We will email you when there is news."
	case certdesk.StatusAwaitingLearner:
		return "Your case still needs something from you; the email we sent says what."
	case certdesk.StatusCoolingOff:
		return "The change is scheduled; we will email you when it is done."
	case certdesk.StatusCompleted:
		return "Done: your case is complete. We have emailed you the details."
	case certdesk.StatusCancelled:
		return "Stopped: nothing was changed, and our security team will look at the request."
	case certdesk.StatusRejected, certdesk.StatusExpired, certdesk.StatusFailed:
		return "Your case has closed; we have emailed you why."
	}
	return "Your case is moving on. We will email you when there is news."
}
