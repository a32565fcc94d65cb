package api

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/auth"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/i18n"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/webhook"
)

// The requests that open cases, who is calling, their accounts, and the
// identity system's sign-in events.

// connectRequest is the body of POST /api/v1/connect-requests: nothing yet
// (the learner is the caller), so an empty body or {}.
type connectRequest struct{}

// requestConnect opens a connect case for the calling learner: 202 with the
// new case, or 200 with the case already open for their learning profile.
func (s *API) requestConnect(c *gin.Context) {
	var req connectRequest
	if c.Request.ContentLength != 0 {
		if err := request.DecodeJSON(c, &req); err != nil {
			respond.Fail(c, err)
			return
		}
	}
	cs, opened, err := s.desk.OpenConnect(withLanguage(c), request.Caller(c))
	if err != nil {
		respond.Fail(c, err)
		return
	}
	code := http.StatusOK
	if opened {
		code = http.StatusAccepted
	}
	c.JSON(code, caseOf(c, cs))
}

// requestMerge opens a merge case (see desk.RequestMerge).
func (s *API) requestMerge(c *gin.Context) {
	var req desk.MergeRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	cs, err := s.desk.RequestMerge(withLanguage(c), request.Caller(c), req)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, caseOf(c, cs))
}

// requestRecovery starts a recovery case from the public API: the one
// answer to every valid request, whether or not anything matches.
func (s *API) requestRecovery(c *gin.Context) {
	var req desk.RecoveryRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	if err := s.desk.SubmitRecovery(withLanguage(c), req); err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "received", "message": s.desk.RecoveryAccepted()})
}

type signInJSON struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	LastSignInAt *time.Time `json:"last_sign_in_at"`
}

// recordSignIn records a sign-in on an active account (see desk.RecordSignIn).
func (s *API) recordSignIn(c *gin.Context) {
	var req desk.SignInRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	a, err := s.desk.RecordSignIn(c.Request.Context(), req)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, signInOf(a))
}

func signInOf(a certdesk.Account) signInJSON {
	return signInJSON{ID: a.ID, Email: a.Email, Status: a.Status, LastSignInAt: a.LastSignInAt}
}

// me answers who is calling.
func (s *API) me(c *gin.Context) {
	me, err := s.desk.WhoIs(c.Request.Context(), request.Caller(c))
	if err != nil {
		respond.Fail(c, err)
		return
	}
	if auth.ViaCookie(c) {
		me.CSRFToken = request.CSRF(c)
	}
	c.JSON(http.StatusOK, me)
}

type addAccountRequest struct {
	Email string `json:"email"`
	Kind  string `json:"kind"`
}

// addAccount adds an account to the caller's learning profile, as the
// learning site's "Add account" does: in dev mode by naming it; elsewhere
// a learner proves they own an account by signing in with it. 201 when
// added, 200 when it was there.
func (s *API) addAccount(c *gin.Context) {
	var req addAccountRequest
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	if !s.dev {
		respond.Fail(c, certdesk.Errorf(certdesk.EFORBIDDEN, "add an account by signing in with it: open /auth/login?add_account=1"))
		return
	}
	ctx := c.Request.Context()
	p := request.Caller(c)
	added, created, err := s.desk.AddAccount(ctx, p, c.Param("id"), req.Email, req.Kind, "")
	if err != nil {
		respond.Fail(c, err)
		return
	}
	me, err := s.desk.WhoIs(ctx, p)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	c.JSON(code, gin.H{"account": desk.Accounts([]certdesk.Account{added})[0], "learning_profile": me.LearningProfile})
}

// devMail: GET /api/v1/dev/mail?to=&case=, newest first.
func (s *API) devMail(c *gin.Context) {
	ms, err := s.desk.Mailbox(c.Request.Context(), c.Query("to"), c.Query("case"))
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON[desk.CapturedMail]{Items: ms})
}

// devWebhooks: GET /api/v1/dev/webhooks, the newest events first, each
// with what dev mode's receiver got (headers, verified) and every attempt.
func (s *API) devWebhooks(c *gin.Context) {
	evs, err := s.desk.DevWebhooks(c.Request.Context())
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listJSON[desk.DevWebhookEvent]{Items: evs})
}

// devReceive: POST /dev/webhooks/receive, dev mode's built-in receiver. It
// answers 200 for a delivery whose signature checks out and 401 for one
// that does not (the sender retries it, as it would with a real receiver).
func (s *API) devReceive(c *gin.Context) {
	var body []byte
	if c.Request.Body != nil {
		var err error
		if body, err = io.ReadAll(c.Request.Body); err != nil { // limitBody bounds it
			respond.Fail(c, request.JSONError(err))
			return
		}
	}
	headers := map[string]string{}
	for _, k := range []string{webhook.HeaderID, webhook.HeaderTimestamp, webhook.HeaderSignature, "Content-Type", "User-Agent"} {
		if v := c.GetHeader(k); v != "" {
			headers[strings.ToLower(k)] = v
		}
	}
	r, err := s.desk.ReceiveDevWebhook(c.Request.Context(), headers, body)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	if !r.Verified {
		respond.Fail(c, certdesk.Errorf(certdesk.EUNAUTHENTICATED, "the signature does not verify: %s", r.Problem))
		return
	}
	c.JSON(http.StatusOK, gin.H{"received": r.ID})
}

// withLanguage carries the caller's language (?lang=, else Accept-Language)
// to the case a request opens: its emails to the learner speak it.
func withLanguage(c *gin.Context) context.Context {
	return i18n.WithPreference(c.Request.Context(), i18n.Prefer(c.Query("lang"), "", c.GetHeader("Accept-Language")))
}
