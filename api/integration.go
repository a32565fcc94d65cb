package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// The integration API (/api/v1/integration/…): the systems of record write
// certification profiles, accounts and sign-ins with integration tokens,
// each route within a scope (auth.RequireScope). Writes are idempotent
// upserts keyed by the source's ids: the same input twice changes nothing.

// signInBatchJSON is the answer to a recorded batch: each event's account
// after the batch, in the batch's order.
type signInBatchJSON struct {
	Recorded int          `json:"recorded"`
	Items    []signInJSON `json:"items"`
}

// recordSignIns records a batch of sign-in events, all or nothing (see
// desk.RecordSignIns).
func (s *API) recordSignIns(c *gin.Context) {
	var req desk.SignInBatch
	if err := request.DecodeJSON(c, &req); err != nil {
		respond.Fail(c, err)
		return
	}
	as, err := s.desk.RecordSignIns(c.Request.Context(), req)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	out := signInBatchJSON{Recorded: len(as), Items: make([]signInJSON, len(as))}
	for i, a := range as {
		out.Items[i] = signInOf(a)
	}
	c.JSON(http.StatusOK, out)
}

// upsertJSON is the answer to a PUT: what the record did, and the record
// as certdesk holds it now (201 when inserted, else 200).
type upsertJSON struct {
	Outcome store.Outcome           `json:"outcome"`
	Profile *certdesk.ProfileRecord `json:"profile,omitempty"`
	Account *certdesk.AccountRecord `json:"account,omitempty"`
}

func (u upsertJSON) status() int {
	if u.Outcome == store.OutcomeInserted {
		return http.StatusCreated
	}
	return http.StatusOK
}

// putProfile applies a certification profile record keyed by the MCID in
// the path (see desk.PutProfile).
func (s *API) putProfile(c *gin.Context) {
	var r certdesk.ProfileRecord
	if err := request.DecodeJSON(c, &r); err != nil {
		respond.Fail(c, err)
		return
	}
	if err := keyFromPath(&r.MCID, c.Param("mcid"), "mcid", "certification-profiles/{mcid}"); err != nil {
		respond.Fail(c, err)
		return
	}
	out, held, err := s.desk.PutProfile(c.Request.Context(), request.Caller(c), r)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	u := upsertJSON{Outcome: out, Profile: &held}
	c.JSON(u.status(), u)
}

// putAccount applies an account record keyed by the email in the path (see
// desk.PutAccount).
func (s *API) putAccount(c *gin.Context) {
	var r certdesk.AccountRecord
	if err := request.DecodeJSON(c, &r); err != nil {
		respond.Fail(c, err)
		return
	}
	if err := keyFromPath(&r.Email, c.Param("email"), "email", "accounts/{email}"); err != nil {
		respond.Fail(c, err)
		return
	}
	out, held, err := s.desk.PutAccount(c.Request.Context(), request.Caller(c), r)
	if err != nil {
		respond.Fail(c, err)
		return
	}
	u := upsertJSON{Outcome: out, Account: &held}
	c.JSON(u.status(), u)
}

// keyFromPath sets a record's key from the path: a body may leave it out,
// or give the same (an email compared in its canonical form).
func keyFromPath(key *string, path, field, route string) error {
	if *key != "" && *key != path && certdesk.NormalizeEmail(*key) != certdesk.NormalizeEmail(path) {
		return certdesk.Invalid(map[string]string{field: "is the path's (" + route + "): leave it out of the body, or give the same"})
	}
	*key = path
	return nil
}
