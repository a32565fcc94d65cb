// Package golive_test goes live as the README's "Go live" steps say, in the
// production shape (no dev mode): PostgreSQL, a Temporal server used as a
// plain cluster, `certdesk api` and `certdesk worker` as processes of the
// built binary, a local OpenID issuer with real signatures issuing Entra
// ID-like tokens (Microsoft's multi-tenant endpoint: personal and work
// tenants, app roles), and a SendGrid stand-in. It imports a small world
// from files, signs people in through the whole browser flow, and drives a
// connect through its merge and a recovery to their ends over HTTP, reading
// the links from the mail the worker sent.
package golive_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/oidctest"
	"github.com/certdesk/certdesk/workflows"
)

// caseJSON is a case as GET /api/v1/cases/{id} answers it.
type caseJSON struct {
	ID           string          `json:"id"`
	Kind         certdesk.Kind   `json:"kind"`
	Status       certdesk.Status `json:"status"`
	Resolution   string          `json:"resolution"`
	ParentCaseID *string         `json:"parent_case_id"`
	WorkflowID   string          `json:"workflow_id"`
	RunID        string          `json:"run_id"`
	Details      json.RawMessage `json:"details"`
}

func TestGoLive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL databases, a Temporal server and certdesk processes")
	}
	began := time.Now()
	s := newStack(t)

	// 1. The schema.
	if out := s.certdesk("migrate"); !strings.Contains(out, "schema is at version") {
		t.Fatalf("certdesk migrate:\n%s", out)
	}

	// 6 (by hand). A break-glass supervisor, who works whatever the
	// provider's roles say.
	s.certdesk("staff", "add", "--email", glassEmail, "--role", "supervisor", "--name", "Break Glass")

	// 7. The systems of record: a dry run first, then accounts before the
	// profiles they own; running an import again changes nothing.
	accounts, profiles := writeWorld(s.dir, time.Now())
	expectImport(t, s.certdesk("import", "accounts", "--dry-run", accounts), "inserted 2, updated 0, unchanged 0, refused 0", "dry run")
	expectImport(t, s.certdesk("import", "accounts", accounts), "inserted 2, updated 0, unchanged 0, refused 0")
	expectImport(t, s.certdesk("import", "profiles", profiles), "inserted 3, updated 0, unchanged 0, refused 0")
	expectImport(t, s.certdesk("import", "profiles", profiles), "inserted 0, updated 0, unchanged 3, refused 0")
	// Each system keeps its records current through the integration API
	// with a token of its own.
	certSystem := s.integrationToken("certification-system", "profiles:write")
	learningSite := s.integrationToken("learning-site", "accounts:write,sign-ins:write")

	// 5. The processes.
	s.startAPI()
	worker := s.start("worker")

	// 6. Staff: the agent and the supervisor by their app roles in the
	// program's tenant, the break-glass supervisor without any.
	nora := s.signInAs("Nora (agent)", oidctest.Work(staffTenant, "entra-nora", noraEmail, "Nora Field", agentRole), "agent")
	sam := s.signInAs("Sam (supervisor)", oidctest.Work(staffTenant, "entra-sam", samEmail, "Sam Ortiz", superRole), "supervisor")
	s.signInAs("break-glass supervisor", oidctest.Work(staffTenant, "entra-glass", glassEmail, "Break Glass"), "supervisor")
	staff := s.certdesk("staff", "list")
	for _, want := range []string{noraEmail + `\s+Nora Field\s+agent\s+oidc\s+active\s+\d{4}-`, samEmail + `\s+Sam Ortiz\s+supervisor\s+oidc\s+active\s+\d{4}-`,
		glassEmail + `\s+Break Glass\s+supervisor\s+manual\s+active\s+\d{4}-`} {
		if !regexp.MustCompile(want).MatchString(staff) {
			t.Errorf("certdesk staff list does not show /%s/:\n%s", want, staff)
		}
	}

	// Another tenant giving its own users the app's roles makes nobody
	// staff: its user is a new learner with a work account.
	other := s.signInAs("a user of another tenant with the agent role", oidctest.Work(otherTenant, "entra-max", maxEmail, "Max Weber", agentRole), "learner")
	if _, m := other.me(); m.LearningProfile == nil || len(m.Accounts) != 1 || m.Accounts[0].Kind != certdesk.AccountWork {
		t.Errorf("another tenant's user after the first sign-in: %+v", m)
	}

	// 8. A learner's first sign-in, with the personal account the import
	// brought: her learning profile is made, her two profiles are hers.
	lena := s.signInAs("Lena", oidctest.Personal("msa-lena", lenaEmail, "Lena Fox"), "learner")
	_, m := lena.me()
	first, _, _, _ := m.profile(lenaFirstMCID)
	second, _, _, _ := m.profile(lenaSecondMCID)
	if m.LearningProfile == nil || m.LearningProfile.ConnectedProfileID != nil || len(m.Accounts) != 1 ||
		m.Accounts[0].Kind != certdesk.AccountPersonal || first == "" || second == "" {
		t.Fatalf("Lena after her first sign-in: %+v", m)
	}

	// She asks to connect: the connect case finds the duplicates and runs
	// a merge, which waits for an agent.
	var connect caseJSON
	lena.json("POST", "/api/v1/connect-requests", map[string]any{}, http.StatusAccepted, &connect)
	mergeID := awaitCase(t, lena, connect.ID, "running its merge", func(c caseJSON) bool {
		return c.connectDetails().MergeCaseID != ""
	}).connectDetails().MergeCaseID
	awaitCase(t, nora, mergeID, "awaiting an agent", func(c caseJSON) bool { return c.Status == certdesk.StatusAwaitingAgent })
	var queue struct{ Items []caseJSON }
	nora.json("GET", "/api/v1/cases?kind=merge&status=awaiting_agent", nil, http.StatusOK, &queue)
	if len(queue.Items) != 1 || queue.Items[0].ID != mergeID || queue.Items[0].ParentCaseID == nil || *queue.Items[0].ParentCaseID != connect.ID {
		t.Fatalf("the agents' queue of merges = %+v, want the merge of connect case %s", queue.Items, connect.ID)
	}
	if code, page := nora.do("GET", "/console", nil); code != http.StatusOK || !strings.Contains(string(page), "Lena Fox") {
		t.Errorf("the console = %d without Lena's merge:\n%s", code, page)
	}
	// The certification system sends Lena's newest certification while
	// her profiles are in the open case: it waits for the case.
	newest := lenaRecord()
	if code, out := s.integrate(certSystem, "PUT", "/api/v1/integration/certification-profiles/"+lenaFirstMCID, newest); code != http.StatusConflict ||
		!strings.Contains(errorMessage(out), "open case") {
		t.Errorf("a profile record during the open merge = %d %v, want 409 naming the case", code, out)
	}
	var merge caseJSON
	nora.json("GET", "/api/v1/cases/"+mergeID, nil, http.StatusOK, &merge)
	var md certdesk.MergeDetails
	_ = json.Unmarshal(merge.Details, &md)
	if md.TargetMCID != lenaFirstMCID || md.TargetReason != certdesk.TargetOwned || !md.NamesMatch {
		t.Errorf("the merge's preview: into %s because %q, names match %v; want %s, owned, true", md.TargetMCID, md.TargetReason, md.NamesMatch, lenaFirstMCID)
	}

	// The agent claims it and approves; the connect case connects the
	// survivor.
	nora.json("POST", "/api/v1/cases/"+mergeID+"/claim", map[string]any{}, http.StatusOK, nil)
	nora.json("POST", "/api/v1/cases/"+mergeID+"/decision", map[string]any{"decision": "approve", "note": "same name, same account"}, http.StatusOK, nil)
	done := awaitCase(t, lena, connect.ID, "ended", func(c caseJSON) bool { return c.Status.Terminal() })
	if done.Status != certdesk.StatusCompleted || done.Resolution != certdesk.ConnectConnected || done.connectDetails().ConnectedMCID != lenaFirstMCID {
		t.Fatalf("Lena's connect case ended %s/%s with %s, want completed/connected with %s", done.Status, done.Resolution, done.connectDetails().ConnectedMCID, lenaFirstMCID)
	}
	nora.json("GET", "/api/v1/cases/"+mergeID, nil, http.StatusOK, &merge)
	if merge.Status != certdesk.StatusCompleted || merge.Resolution != certdesk.MergeMerged {
		t.Errorf("the merge case ended %s/%s, want completed/merged", merge.Status, merge.Resolution)
	}
	_, m = lena.me()
	_, _, into, connected := m.profile(lenaSecondMCID)
	if m.LearningProfile.ConnectedProfileID == nil || *m.LearningProfile.ConnectedProfileID != first || into == nil || *into != first || connected {
		t.Errorf("Lena's profiles after the connection: %+v", m)
	}
	if _, page := lena.do("GET", "/portal", nil); !strings.Contains(string(page), "is connected to your learning profile") {
		t.Errorf("Lena's portal does not say she is connected:\n%s", page)
	}
	merged := s.sendgrid.await(t, mail.MergeCompleted, lenaEmail)
	if merged.Data["target_mcid"] != lenaFirstMCID || fmt.Sprint(merged.Data["merged_mcids"]) != lenaSecondMCID ||
		merged.Data["certifications_moved"] != 1.0 || merged.Data["transcript_moved"] != 1.0 {
		t.Errorf("merge_completed data = %v", merged.Data)
	}
	if c := s.sendgrid.await(t, mail.ConnectCompleted, lenaEmail); c.Data["mcid"] != lenaFirstMCID || c.CaseID != connect.ID {
		t.Errorf("connect_completed = %+v", c)
	}

	// Sent again once the case has ended, the record applies; what the
	// merge moved there stays.
	code, out := s.integrate(certSystem, "PUT", "/api/v1/integration/certification-profiles/"+lenaFirstMCID, newest)
	if code != http.StatusOK || out["outcome"] != "updated" || fmt.Sprint(certificationCodes(out)) != "[AZ-104 AZ-305 AZ-900]" {
		t.Errorf("the profile record after the case = %d %v, want updated with AZ-104, AZ-305 and AZ-900", code, out)
	}

	// The first night: the inactivity sweep's schedule (made by the
	// worker) runs, as `temporal schedule trigger --schedule-id
	// certdesk-inactivity-sweep` would run it now. Rosa's account, unused
	// for three years, becomes inactive and is told how to recover.
	s.triggerSweep()
	s.sendgrid.await(t, mail.AccountInactive, rosaOldEmail)
	// The learning site's sign-ins: an inactive account's is refused, and
	// the batch with it records nothing.
	batch := map[string]any{"events": []map[string]any{{"email": lenaEmail}, {"email": rosaOldEmail}}}
	if code, out := s.integrate(learningSite, "POST", "/api/v1/integration/sign-in-events", batch); code != http.StatusConflict ||
		!strings.Contains(fmt.Sprint(out), "events[1].email:the account "+rosaOldEmail+" is inactive") {
		t.Errorf("sign-in events with Rosa's inactive account = %d %v, want 409 naming it", code, out)
	}
	batch["events"] = batch["events"].([]map[string]any)[:1]
	if code, out := s.integrate(learningSite, "POST", "/api/v1/integration/sign-in-events", batch); code != http.StatusOK || out["recorded"] != 1.0 {
		t.Errorf("Lena's sign-in event = %d %v", code, out)
	}
	rosa := s.anonymous("Rosa")
	if code, page := s.signInBrowser(rosa, oidctest.Personal("msa-rosa-old", rosaOldEmail, "Rosa Quinn")); code != http.StatusForbidden ||
		!strings.Contains(page, "inactive") || !strings.Contains(page, `href="/portal/recovery"`) {
		t.Fatalf("Rosa's sign-in with her inactive account = %d, want 403 pointing at recovery:\n%s", code, page)
	}

	// She asks to recover her profile to a new personal account, and
	// confirms her contact address from the email.
	var received map[string]any
	rosa.json("POST", "/api/v1/recovery-requests", map[string]any{
		"legal_name": "Rosa Quinn", "contact_email": rosaNewEmail, "mcid": rosaMCID, "previous_email": rosaOldEmail,
		"exam": "MS-900", "new_account_email": rosaNewEmail,
		"description": "My old Outlook account was closed, so I cannot sign in to my certification profile.",
	}, http.StatusAccepted, &received)
	if received["status"] != "received" {
		t.Errorf("the recovery request's answer = %v", received)
	}
	verify := s.sendgrid.await(t, mail.RecoveryVerify, rosaNewEmail)
	rosa.useLink(verify.Link())
	recovery := verify.CaseID
	if code := s.sendgrid.delivered(t, s.base, verify); code != http.StatusOK {
		t.Errorf("SendGrid's signed delivered event = %d, want 200", code)
	}
	rc := awaitCase(t, nora, recovery, "awaiting an agent", func(c caseJSON) bool { return c.Status == certdesk.StatusAwaitingAgent })
	var rd certdesk.RecoveryDetails
	_ = json.Unmarshal(rc.Details, &rd)
	if len(rd.Candidates) != 1 || rd.Candidates[0].MCID != rosaMCID || rd.Candidates[0].Strength != certdesk.StrengthStrong ||
		rd.Candidates[0].OwnerStatus != certdesk.AccountInactive || !rd.Verified {
		t.Fatalf("the recovery case for the agent: %+v", rd)
	}
	if _, page := nora.do("GET", "/console/cases/"+recovery, nil); !strings.Contains(string(page), `<span class="status e-delivered">delivered</span>`) {
		t.Errorf("the console's recovery case does not show the verification delivered:\n%s", page)
	}

	// The agent approves; after the cooling-off the profile is hers.
	nora.json("POST", "/api/v1/cases/"+recovery+"/claim", map[string]any{}, http.StatusOK, nil)
	nora.json("POST", "/api/v1/cases/"+recovery+"/decision", map[string]any{"decision": "approve", "profile_id": rd.Candidates[0].ProfileID,
		"note": "MCID, old address and exam match"}, http.StatusOK, nil)
	if n := s.sendgrid.await(t, mail.RecoveryCoolingOff, rosaOldEmail); n.CaseID != recovery || !strings.HasPrefix(n.Link(), s.base+"/l/") {
		t.Errorf("the cooling-off notice to the address on file: %+v", n)
	}
	s.sendgrid.await(t, mail.RecoveryApproved, rosaNewEmail)
	rc = awaitCase(t, nora, recovery, "ended", func(c caseJSON) bool { return c.Status.Terminal() })
	if rc.Status != certdesk.StatusCompleted || rc.Resolution != certdesk.ResolutionRecovered {
		t.Fatalf("the recovery case ended %s/%s, want completed/recovered", rc.Status, rc.Resolution)
	}
	s.sendgrid.await(t, mail.RecoveryCompleted, rosaOldEmail)
	s.sendgrid.await(t, mail.RecoveryCompleted, rosaNewEmail)
	rosaNew := s.signInAs("Rosa, new account", oidctest.Personal("msa-rosa-new", rosaNewEmail, "Rosa Quinn"), "learner")
	_, m = rosaNew.me()
	if id, status, _, _ := m.profile(rosaMCID); id == "" || status != certdesk.ProfileActive || len(m.Accounts) != 1 || m.Accounts[0].Email != rosaNewEmail {
		t.Errorf("Rosa with her new account: %+v", m)
	}

	// Temporal holds the cases' data encrypted; the codec server decodes
	// it for agents (the Temporal Web UI's view).
	s.expectEncryptedHistory(nora, rc, "Rosa Quinn")

	// The agent's app role is removed in Entra ID: her next sign-in is
	// refused and her earlier session ends; the supervisor sees it.
	if _, code := s.signIn("Nora without the role", oidctest.Work(staffTenant, "entra-nora", noraEmail, "Nora Field")); code != http.StatusForbidden {
		t.Errorf("Nora's sign-in without the app role = %d, want 403", code)
	}
	if code, _ := nora.do("GET", "/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("Nora's earlier session after the role was removed: /api/v1/me = %d, want 401", code)
	}
	if code, _ := nora.do("GET", "/api/v1/cases", nil); code != http.StatusUnauthorized {
		t.Errorf("Nora's earlier session after the role was removed: /api/v1/cases = %d, want 401", code)
	}
	if _, page := sam.do("GET", "/console/staff", nil); !regexp.MustCompile(noraEmail + `</td>[^<]*<td[^>]*>agent</td>[^<]*<td[^>]*>oidc</td>[^<]*<td[^>]*>disabled: role removed`).Match(page) {
		t.Errorf("the supervisor's staff page does not show Nora disabled:\n%s", page)
	}
	if staff := s.certdesk("staff", "list"); !regexp.MustCompile(noraEmail + `\s+Nora Field\s+agent\s+oidc\s+disabled \(role removed by the provider\)`).MatchString(staff) {
		t.Errorf("certdesk staff list after the role was removed:\n%s", staff)
	}

	// Every email went out once, as a dynamic template of its kind.
	s.sendgrid.check(t, map[string][]string{
		mail.MergeCompleted:     {lenaEmail},
		mail.ConnectCompleted:   {lenaEmail},
		mail.AccountInactive:    {rosaOldEmail},
		mail.RecoveryVerify:     {rosaNewEmail},
		mail.RecoveryCoolingOff: {rosaOldEmail},
		mail.RecoveryApproved:   {rosaNewEmail},
		mail.RecoveryCompleted:  {rosaNewEmail, rosaOldEmail},
	})
	if !worker.Running() {
		t.Errorf("certdesk worker exited: %v", worker.Err())
	}
	t.Logf("went live in %s", time.Since(began).Round(time.Second))
}

// expectImport checks an import's summary line (and more lines when given).
func expectImport(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Fatalf("certdesk import said:\n%s\nwant %q", out, w)
		}
	}
}

// signInAs signs a person in and expects the role.
func (s *stack) signInAs(who string, claims map[string]any, role string) *browser {
	s.t.Helper()
	b, code := s.signIn(who, claims)
	if code != http.StatusSeeOther {
		s.t.Fatalf("%s: sign-in = %d, want 303", who, code)
	}
	if _, m := b.me(); m.Role != role || m.Email != claims["email"] {
		s.t.Fatalf("%s: signed in as %q %q, want %s %s", who, m.Role, m.Email, role, claims["email"])
	}
	return b
}

// awaitCase polls a case, as the person sees it, until ok. A case a
// parent names may not be written yet (a merge's workflow opens its own
// case a moment after the connect case records it): 404 is "not yet".
func awaitCase(t *testing.T, b *browser, id, what string, ok func(caseJSON) bool) caseJSON {
	t.Helper()
	var c caseJSON
	eventually(t, "case "+id+" "+what, func() bool {
		code, raw := b.do("GET", "/api/v1/cases/"+id, nil)
		switch code {
		case http.StatusNotFound:
			return false
		case http.StatusOK:
		default:
			t.Fatalf("%s: GET /api/v1/cases/%s = %d: %s", b.who, id, code, raw)
		}
		c = caseJSON{}
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: case %s: %v: %s", b.who, id, err, raw)
		}
		return ok(c)
	})
	return c
}

func (c caseJSON) connectDetails() certdesk.ConnectDetails {
	var d certdesk.ConnectDetails
	_ = json.Unmarshal(c.Details, &d)
	return d
}

// lenaRecord is the certification system's record of Lena's first
// profile after go-live: a certification and its exam added.
func lenaRecord() map[string]any {
	return map[string]any{"legal_name": "Lena Fox", "email": lenaEmail, "owner_email": lenaEmail, "status": "active", "created_at": "2020-02-01T09:00:00Z",
		"certifications": []map[string]any{
			{"code": "AZ-900", "title": "Microsoft Certified: Azure Fundamentals", "earned_at": "2020-05-04T09:00:00Z"},
			{"code": "AZ-305", "title": "Microsoft Certified: Azure Solutions Architect Expert", "earned_at": "2026-11-20T09:00:00Z"}},
		"exams": []map[string]any{
			{"code": "AZ-900", "title": "Microsoft Azure Fundamentals", "taken_at": "2020-05-04T09:00:00Z", "score": 820},
			{"code": "AZ-305", "title": "Designing Microsoft Azure Infrastructure Solutions", "taken_at": "2026-11-20T09:00:00Z", "score": 760}},
	}
}

// certificationCodes lists the codes of an integration answer's profile.
func certificationCodes(out map[string]any) []string {
	var codes []string
	p, _ := out["profile"].(map[string]any)
	list, _ := p["certifications"].([]any)
	for _, c := range list {
		code, _ := c.(map[string]any)["code"].(string)
		codes = append(codes, code)
	}
	slices.Sort(codes)
	return codes
}

// errorMessage is an API error's message.
func errorMessage(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// triggerSweep runs the inactivity sweep now, once the worker has made its
// schedule.
func (s *stack) triggerSweep() {
	s.t.Helper()
	h := s.temporal.ScheduleClient().GetHandle(context.Background(), workflows.SweepScheduleID)
	eventually(s.t, "the sweep's schedule", func() bool {
		return h.Trigger(context.Background(), client.ScheduleTriggerOptions{}) == nil
	})
}

// expectEncryptedHistory checks that a case's workflow input names secret
// only encrypted, and that the codec server shows it to an agent.
func (s *stack) expectEncryptedHistory(agent *browser, c caseJSON, secret string) {
	s.t.Helper()
	it := s.temporal.GetWorkflowHistory(context.Background(), c.WorkflowID, c.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	ev, err := it.Next()
	if err != nil {
		s.t.Fatalf("history of %s: %v", c.WorkflowID, err)
	}
	input := ev.GetWorkflowExecutionStartedEventAttributes().GetInput()
	raw, _ := protojson.Marshal(input)
	if len(input.GetPayloads()) == 0 || strings.Contains(string(raw), secret) {
		s.t.Fatalf("the workflow's input is not encrypted: %s", raw)
	}
	code, body := agent.do("POST", "/codec/decode", json.RawMessage(raw))
	var decoded struct {
		Payloads []struct {
			Data []byte `json:"data"`
		} `json:"payloads"`
	}
	_ = json.Unmarshal(body, &decoded)
	if code != http.StatusOK || len(decoded.Payloads) == 0 || !strings.Contains(string(decoded.Payloads[0].Data), secret) {
		s.t.Errorf("the codec server's decode for an agent = %d %s, want %q in it", code, body, secret)
	}
}
