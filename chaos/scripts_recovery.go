package chaos

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/certdesk/certdesk"
)

// How a recovery script goes once the contact address is verified.
type recoveryPath int

const (
	recoverPlain     recoveryPath = iota // approved, cooled off, completed
	recoverAfterInfo                     // more information asked and given, then as plain
	recoverRejected                      // rejected with a note
	recoverCancelled                     // approved; "this wasn't me" from the old address
)

var recoveryStart = []string{"opened", "verification_sent", "verified", "awaiting_agent", "decided"}

func recovery(path recoveryPath) func(context.Context, *runner, *person) error {
	return func(ctx context.Context, r *runner, p *person) error {
		// Each person asks from an address of their own (the form's limit
		// is per client address; the API trusts the driver as a proxy).
		hdr := map[string]string{"X-Forwarded-For": r.c.nextAddr()}
		form := map[string]string{
			"legal_name": p.name, "contact_email": p.newEmail, "mcid": p.mcid, "previous_email": p.lost,
			"new_account_email": p.newEmail, "description": "My old account was closed; I can't sign in to my certification profile.",
		}
		// Sent again after a lost answer, as a learner would press Send
		// again: the first may have opened a case too (see runner.resent).
		var code int
		var data []byte
		for sends := 0; ; sends++ {
			var err error
			code, data, err = r.c.do(ctx, "POST", "/api/v1/recovery-requests", "", form, hdr, nil)
			if !transient(code, err) {
				break
			}
			r.mu.Lock()
			r.resent[p.newEmail] = true
			r.mu.Unlock()
			if perr := r.c.pause(ctx); perr != nil {
				return fmt.Errorf("POST /api/v1/recovery-requests: gave up (%d %v): %w", code, err, perr)
			}
		}
		if code != http.StatusAccepted {
			return &errStatus{"POST", "/api/v1/recovery-requests", code, string(data)}
		}
		// The answer names no case (it tells nobody what matched): the
		// verification email does.
		verify, err := r.mail.await(ctx, r.c, "the verification email to "+p.newEmail, func(s sent) bool {
			return s.To == p.newEmail && s.Step == "verify"
		})
		if err != nil {
			return err
		}
		id := verify.CaseID
		e := expected{Kind: certdesk.KindRecovery, Status: certdesk.StatusCompleted, Resolution: certdesk.ResolutionRecovered,
			Emails:   []string{"verify", "cooling-off-1", "approved", "completed-1", "completed-new"},
			Timeline: append(append([]string{}, recoveryStart...), "cooling_off", "notices_sent", "completed")}
		switch path {
		case recoverAfterInfo:
			e.Emails = []string{"verify", "request-info-1", "cooling-off-1", "approved", "completed-1", "completed-new"}
			e.Timeline = append(append([]string{}, recoveryStart...), "info_requested", "replied", "awaiting_agent", "decided", "cooling_off", "notices_sent", "completed")
		case recoverRejected:
			e.Status, e.Resolution, e.Emails = certdesk.StatusRejected, certdesk.ResolutionRejected, []string{"verify", "rejected"}
			e.Timeline = append(append([]string{}, recoveryStart...), "rejected")
		case recoverCancelled:
			e.Status, e.Resolution, e.Emails = certdesk.StatusCancelled, certdesk.ResolutionCancelledByOwner, []string{"verify", "cooling-off-1", "approved", "cancelled"}
			for _, sup := range r.supervisors {
				e.Emails = append(e.Emails, "security-review-"+sup)
			}
			e.Timeline = append(append([]string{}, recoveryStart...), "cooling_off", "notices_sent", "cancelled")
		}
		r.expect(id, p, e)
		if err := r.c.click(ctx, verify.Link, nil); err != nil {
			return err
		}
		agent := r.agent()
		if _, err := r.c.awaitStatus(ctx, agent, id, certdesk.StatusAwaitingAgent); err != nil {
			return err
		}
		approve := map[string]string{"decision": "approve", "profile_id": p.profiles[0], "note": "MCID, name and old address match"}
		switch path {
		case recoverRejected:
			if err := r.c.decide(ctx, agent, id, map[string]string{"decision": "reject", "note": "the old address does not match"}); err != nil {
				return err
			}
		case recoverAfterInfo:
			if err := r.c.decide(ctx, agent, id, map[string]string{"decision": "request_info", "note": "Which exam did you pass first?"}); err != nil {
				return err
			}
			ask, err := r.mail.awaitMail(ctx, r.c, id, "request-info-1")
			if err != nil {
				return err
			}
			if err := r.c.click(ctx, ask.Link, url.Values{"reply": {"AZ-900, in 2021."}}); err != nil {
				return err
			}
			err = r.c.awaitTimeline(ctx, agent, id, "the agent's turn again", func(types []string) bool {
				return count(types, "replied") == 1 && types[len(types)-1] == "awaiting_agent"
			})
			if err != nil {
				return err
			}
			fallthrough
		default:
			if err := r.c.decide(ctx, agent, id, approve); err != nil {
				return err
			}
		}
		if path == recoverCancelled {
			notice, err := r.mail.awaitMail(ctx, r.c, id, "cooling-off-1")
			if err != nil {
				return err
			}
			if err := r.c.click(ctx, notice.Link, nil); err != nil {
				return err
			}
		}
		_, err = r.c.awaitEnd(ctx, agent, id)
		return err
	}
}
