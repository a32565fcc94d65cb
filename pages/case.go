package pages

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// The case page of the console: the case, its subject (the kind's details
// side by side), the actions the viewer may take now, its timeline and
// emails; and the forms' actions.

type eventRow struct {
	certdesk.CaseEvent
	Who string
	// Sentence says what happened, in words, with its cases and profiles
	// linked; Raw is the event's data, for the curious, one click away.
	Sentence []part
	Raw      string
}

// part is a piece of a timeline sentence: text, a link, or a time.
type part struct {
	Text, URL string
	At        *time.Time
}

type casePage struct {
	Case      certdesk.Case
	Row       queueRow
	Requester string
	Events    []eventRow
	Emails    []store.Email
	Details   map[string]any
	// The kind's details, typed, for the subject section.
	Merge    *certdesk.MergeDetails
	Connect  *certdesk.ConnectDetails
	Recovery *certdesk.RecoveryDetails
	Unmerge  *certdesk.UnmergeDetails
	// MergeCards and RecoveryCards are the subject's profile cards with
	// the profiles as they are now and the accounts that own them.
	MergeCards    []profileCard
	RecoveryCards []candidateCard
	// Learner is the "This learner" panel: their accounts, profiles and
	// other cases.
	Learner store.LearnerFile
	// Viewers are the other staff who have the case open now.
	Viewers string
	// Undo is what the page says about undoing a completed merge.
	Undo *undoView
	// Actions offered now.
	CanClaim    bool
	CanReassign bool
	// CanClearReview offers a supervisor the end of a security review.
	CanClearReview bool
	// CanConvert offers to turn an inquiry into the case the learner needs.
	CanConvert bool
	// HeldBy names the agent who claimed the case, when it is not the
	// viewer: an agent then takes it over before deciding.
	HeldBy      string
	CanTakeOver bool
	Decisions   []certdesk.Decision
	// WhyNoApprove says why approve is not offered (four-eyes).
	WhyNoApprove string
	Agents       []certdesk.Agent
	TemporalURL  string
	Error        string
	Notice       string
	Form         desk.DecisionRequest // what the agent typed, kept on a refusal
	// The conversation and the public reply: the canned responses filled
	// for this case, what the agent typed (kept on a refusal), and why a
	// reply cannot be sent (no learner address).
	Conversation conversationView
	Canned       []cannedOption
	ReplyForm    desk.ReplyRequest
	NoReply      string
	MaxMessage   int
}

// caseForms is what the agent typed in the case page's forms, shown again
// with a refusal.
type caseForms struct {
	Decision desk.DecisionRequest
	Reply    desk.ReplyRequest
}

// consoleCase is the case page: GET /console/cases/:id
func (s *Pages) consoleCase(c *gin.Context) {
	p := request.Caller(c)
	cs, err := s.store.Case(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.renderCase(c, http.StatusOK, p, cs, noticeOf(c.Query("done")), nil, caseForms{})
}

// renderCase renders the case page with its fresh state; refusal, when set,
// is shown inline.
func (s *Pages) renderCase(c *gin.Context, code int, p *certdesk.Principal, cs certdesk.Case, notice string, refusal error, forms caseForms) {
	ctx := c.Request.Context()
	agents, names, err := s.agentNames(ctx)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	evs, err := s.store.Events(ctx, cs.ID, 0, 0)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	emails, err := s.store.EmailsOfCase(ctx, cs.ID)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	conv, err := s.conversation(ctx, p, cs, names)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	canned, err := s.cannedFor(ctx, p, cs)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := casePage{Case: cs, Row: rowOf(cs, names, s.now()), Requester: s.actorName(ctx, cs.Requester, names), Emails: emails,
		Agents: agents, Notice: notice, Form: forms.Decision, Conversation: conv, Canned: canned, ReplyForm: forms.Reply,
		MaxMessage: desk.MaxMessage}
	if cs.LearnerEmail == "" {
		v.NoReply = "This case has no learner address to reply to."
	}
	_ = json.Unmarshal(cs.Details, &v.Details)
	switch cs.Kind {
	case certdesk.KindMerge:
		v.Merge = &certdesk.MergeDetails{}
		if json.Unmarshal(cs.Details, v.Merge) != nil || len(v.Merge.Profiles) == 0 {
			v.Merge = nil
		}
	case certdesk.KindConnect:
		v.Connect = &certdesk.ConnectDetails{}
		if json.Unmarshal(cs.Details, v.Connect) != nil {
			v.Connect = nil
		}
	case certdesk.KindRecovery:
		v.Recovery = &certdesk.RecoveryDetails{}
		if json.Unmarshal(cs.Details, v.Recovery) != nil || v.Recovery.Claim.ContactEmail == "" {
			v.Recovery = nil
		}
	case certdesk.KindUnmerge:
		v.Unmerge = &certdesk.UnmergeDetails{}
		if json.Unmarshal(cs.Details, v.Unmerge) != nil || len(v.Unmerge.Profiles) == 0 {
			v.Unmerge = nil
		}
	}
	if v.MergeCards, v.RecoveryCards, err = s.cards(ctx, v.Merge, v.Recovery); err != nil {
		s.html.Error(c, err)
		return
	}
	v.Viewers = viewingText(viewers.saw(cs.ID, p.AgentID, s.now()), names)
	if v.Learner, err = s.store.LearnerOf(ctx, cs); err != nil {
		s.html.Error(c, err)
		return
	}
	if v.Undo, err = s.undoOf(ctx, p, cs, evs); err != nil {
		s.html.Error(c, err)
		return
	}
	tl := timeline{ctx: ctx, s: s, cs: cs, agents: names, cases: map[string]string{}}
	for _, ev := range evs {
		v.Events = append(v.Events, eventRow{CaseEvent: ev, Who: s.actorName(ctx, ev.Actor, names), Sentence: tl.sentence(ev), Raw: indent(ev.Data)})
	}
	if refusal != nil {
		v.Error = refusalText(refusal)
	}
	open := !cs.Status.Terminal()
	v.CanClaim = open && (cs.AssigneeID == nil || *cs.AssigneeID != p.AgentID) && (cs.AssigneeID == nil || p.Role == certdesk.RoleSupervisor)
	v.CanReassign = open && p.Role == certdesk.RoleSupervisor
	v.CanClearReview = cs.SecurityReview && p.Role == certdesk.RoleSupervisor
	v.CanConvert = cs.Kind == certdesk.KindInquiry && cs.Status == certdesk.StatusAwaitingAgent && !certdesk.HeldByAnother(cs, p.AgentID, p.Role)
	if cs.AssigneeID != nil && *cs.AssigneeID != p.AgentID {
		v.HeldBy = names[*cs.AssigneeID]
		v.CanTakeOver = open && p.Role != certdesk.RoleSupervisor
	}
	// What the viewer may decide now is the kind's rule (certdesk.Offer):
	// the page does not know four-eyes or claims itself.
	v.Decisions, v.WhyNoApprove = certdesk.Offer(cs, p.AgentID, p.Role)
	if certdesk.HeldByAnother(cs, p.AgentID, p.Role) && cs.Status == certdesk.StatusAwaitingAgent {
		v.WhyNoApprove = v.HeldBy + " claimed this case: take it over to decide it."
	}
	if s.cfg.TemporalUIURL != "" {
		v.TemporalURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.cfg.TemporalUIURL,
			url.PathEscape(s.cfg.Temporal.Namespace), url.PathEscape(cs.WorkflowID), url.PathEscape(cs.RunID))
	}
	s.html.Render(c, code, "console_case", cs.Subject, v)
}

// ownerView is the account that owns a profile, as a card shows it.
type ownerView struct {
	Email, Masked, Kind, Status string
	LastSignIn                  *time.Time
}

// profileCard is a merge card: the profile as the case saw it, and as it is
// now (after the merge a source reads merged into its target).
type profileCard struct {
	certdesk.MergeProfile
	Owner          *ownerView
	Now            string // the profile's status now
	MergedIntoMCID string
	CertsNow       int
}

// candidateCard is a recovery candidate with its owner account.
type candidateCard struct {
	certdesk.RecoveryCandidate
	Owner *ownerView
}

// cards looks up the profiles of a merge or a recovery as they are now and
// the accounts that own them.
func (s *Pages) cards(ctx context.Context, m *certdesk.MergeDetails, r *certdesk.RecoveryDetails) ([]profileCard, []candidateCard, error) {
	var ids []string
	if m != nil {
		for _, p := range m.Profiles {
			ids = append(ids, p.ID)
		}
	}
	if r != nil {
		for _, c := range r.Candidates {
			ids = append(ids, c.ProfileID)
		}
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	profiles, err := s.store.CertificationProfiles(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	byID := map[string]certdesk.CertificationProfile{}
	for _, p := range profiles {
		byID[p.ID] = p
	}
	owner := func(id *string) *ownerView {
		if id == nil {
			return nil
		}
		a, err := s.store.Account(ctx, *id)
		if err != nil {
			return nil
		}
		return &ownerView{Email: a.Email, Masked: masked(a.Email), Kind: a.Kind, Status: a.Status, LastSignIn: a.LastSignInAt}
	}
	var mc []profileCard
	if m != nil {
		for _, p := range m.Profiles {
			card := profileCard{MergeProfile: p, Now: p.Status, CertsNow: p.Certifications}
			now, ok := byID[p.ID]
			if ok {
				card.Now = now.Status
				if now.OwnerAccountID != nil {
					p.OwnerAccountID = now.OwnerAccountID
				}
				if now.MergedIntoID != nil {
					if into, ok := byID[*now.MergedIntoID]; ok {
						card.MergedIntoMCID = into.MCID
					} else if into, err := s.store.CertificationProfile(ctx, *now.MergedIntoID); err == nil {
						card.MergedIntoMCID = into.MCID
					}
				}
				certs, err := s.store.Certifications(ctx, p.ID)
				if err != nil {
					return nil, nil, err
				}
				card.CertsNow = len(certs)
			}
			card.Owner = owner(p.OwnerAccountID)
			mc = append(mc, card)
		}
	}
	var rc []candidateCard
	if r != nil {
		for _, c := range r.Candidates {
			card := candidateCard{RecoveryCandidate: c}
			if p, ok := byID[c.ProfileID]; ok {
				card.Owner = owner(p.OwnerAccountID)
			}
			rc = append(rc, card)
		}
	}
	return mc, rc, nil
}

// masked shows an address without giving it away: c•••@outlook.example.
func masked(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 1 {
		return "•••"
	}
	return email[:1] + "•••" + email[at:]
}

// undoView is the merge page's "Undo this merge" part: the undo that is
// open or that happened, the reason it cannot be undone, or the form.
type undoView struct {
	OpenID   string // an unmerge case waiting for its approval
	UndoneBy string // the unmerge case that undid it
	Refusal  string // why it cannot be undone (supervisors only)
	CanUndo  bool
}

// undoOf says what the page offers about undoing cs, a completed merge:
// everyone on staff sees an open or finished undo; a supervisor sees the
// form, or why the store refuses (the same check the request makes).
func (s *Pages) undoOf(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, evs []certdesk.CaseEvent) (*undoView, error) {
	if cs.Kind != certdesk.KindMerge || cs.Status != certdesk.StatusCompleted || cs.Resolution != certdesk.MergeMerged {
		return nil, nil
	}
	u := &undoView{}
	for _, ev := range evs {
		if ev.Type == certdesk.EventMergeUndone {
			var d struct {
				UnmergeCaseID string `json:"unmerge_case_id"`
			}
			_ = json.Unmarshal(ev.Data, &d)
			u.UndoneBy = d.UnmergeCaseID
			return u, nil
		}
	}
	open, ok, err := s.store.OpenChild(ctx, cs.ID, certdesk.KindUnmerge)
	if err != nil {
		return nil, err
	}
	if ok {
		u.OpenID = open.ID
		return u, nil
	}
	if p.Role != certdesk.RoleSupervisor {
		return nil, nil
	}
	if _, err := s.store.ReviewUnmerge(ctx, cs.ID, s.cfg.UnmergeWindow); err != nil {
		if certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			return nil, err
		}
		u.Refusal = certdesk.ErrorMessage(err)
		return u, nil
	}
	u.CanUndo = true
	return u, nil
}

// actorName says who an actor is, in words, with what identifies them.
func (s *Pages) actorName(ctx context.Context, a certdesk.Actor, agents map[string]string) string {
	return s.actorWords(ctx, a, agents, false)
}

// actorWords names an actor: in a sentence ("Alice Agent approved…") just
// the name, else with what identifies them (role, address).
func (s *Pages) actorWords(ctx context.Context, a certdesk.Actor, agents map[string]string, sentence bool) string {
	pick := func(short, long string) string {
		if sentence {
			return short
		}
		return long
	}
	if id, ok := a.Agent(); ok {
		if n := agents[id]; n != "" {
			return pick(n, n+" (agent)")
		}
	}
	if id, ok := a.Learner(); ok {
		if acct, err := s.store.Account(ctx, id); err == nil && acct.DisplayName != "" {
			return pick(acct.DisplayName, acct.DisplayName+" <"+acct.Email+"> (learner)")
		}
		return pick("The learner", "the learner")
	}
	if _, ok := a.Owner(); ok {
		return pick("The profile's owner", "the profile's owner (an address on file)")
	}
	if addr, ok := a.Email(); ok {
		return addr + " (by email)"
	}
	switch a {
	case certdesk.ActorSystem:
		return "certdesk"
	case certdesk.ActorPublic:
		return pick("The requester", "the requester (public form)")
	}
	return pick("Someone", string(a))
}

// noticeOf says what a successful action did, after the redirect.
func noticeOf(done string) string {
	switch done {
	case "claimed":
		return "The case is yours."
	case "assigned":
		return "The case is reassigned."
	case "noted":
		return "Internal note added."
	case "replied":
		return "Reply sent to the learner."
	case "reviewed":
		return "Security review closed."
	case "converted":
		return "The inquiry is now this case: it names the inquiry as its parent."
	case "undo_requested":
		return "Undo requested: another member of staff approves it here."
	case "undo_open":
		return "An undo of this merge is already waiting for its approval: here it is."
	case "approve", "reject", "request_info":
		return "Decision recorded: " + strings.ReplaceAll(done, "_", " ") + "."
	}
	return ""
}

// consoleAction handles the case page's forms: claim, decision, reply,
// notes, security review, undo. A success redirects to the case (so a
// reload does not repeat it); a refusal renders the case's fresh state with
// the reason.
func (s *Pages) consoleAction(c *gin.Context) {
	p := request.Caller(c)
	ctx := c.Request.Context()
	cs, err := s.store.Case(ctx, c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	version, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	form := desk.DecisionRequest{Decision: certdesk.Decision(c.PostForm("decision")), Note: c.PostForm("note"), ProfileID: c.PostForm("profile_id"),
		Version: version, Reply: formText(c, "reply")}
	var (
		done  string
		reply desk.ReplyRequest
	)
	switch c.Param("action") {
	case "claim":
		_, err = s.desk.Claim(ctx, p, cs, desk.ClaimRequest{Assignee: c.PostForm("assignee"), TakeOver: c.PostForm("take_over") == "1", Version: version})
		done = "claimed"
		if a := c.PostForm("assignee"); a != "" && a != p.AgentID {
			done = "assigned"
		}
	case "decision":
		_, err = s.desk.Decide(ctx, p, cs, form)
		done = string(form.Decision)
	case "reply":
		form, reply = desk.DecisionRequest{}, desk.ReplyRequest{Body: formText(c, "body"), CannedID: c.PostForm("canned_id")}
		if c.PostForm("insert") != "" {
			// Without JavaScript: insert the chosen canned response, send nothing.
			reply, err = s.insertCanned(ctx, p, cs, reply, c.PostForm("insert_id"))
			code := http.StatusOK
			if err != nil {
				code = respond.Status(err)
			}
			s.renderCase(c, code, p, cs, "", err, caseForms{Reply: reply})
			return
		}
		_, err = s.desk.Reply(ctx, p, cs, reply)
		done = "replied"
	case "notes":
		_, err = s.desk.Note(ctx, p, cs, desk.NoteRequest{Note: form.Note})
		done, form = "noted", desk.DecisionRequest{}
	case "security-review":
		_, err = s.desk.ClearReview(ctx, p, cs, desk.NoteRequest{Note: form.Note})
		done, form = "reviewed", desk.DecisionRequest{}
	case "convert":
		// The new case is where the agent lands.
		req := desk.ConvertRequest{Kind: certdesk.Kind(c.PostForm("kind")), MCIDs: strings.FieldsFunc(c.PostForm("mcids"), func(r rune) bool { return r == ',' || r == ' ' }),
			Note: formText(c, "note")}
		child, cerr := s.desk.Convert(ctx, p, cs, req)
		if cerr == nil {
			c.Redirect(http.StatusSeeOther, "/console/cases/"+child.ID+"?done=converted")
			return
		}
		err, form = cerr, desk.DecisionRequest{}
	case "undo":
		// The undo is a case of its own: the supervisor lands on it.
		un, existing, uerr := s.desk.RequestUnmerge(ctx, p, cs, desk.UndoRequest{Note: form.Note})
		if uerr == nil {
			done = "undo_requested"
			if existing {
				done = "undo_open"
			}
			c.Redirect(http.StatusSeeOther, "/console/cases/"+un.ID+"?done="+done)
			return
		}
		err = uerr
	default:
		s.html.Error(c, certdesk.Errorf(certdesk.ENOTFOUND, "no such action"))
		return
	}
	if err != nil {
		fresh, ferr := s.store.Case(ctx, cs.ID)
		if ferr != nil {
			s.html.Error(c, ferr)
			return
		}
		s.renderCase(c, respond.Status(err), p, fresh, "", err, caseForms{Decision: form, Reply: reply})
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/cases/"+cs.ID+"?done="+url.QueryEscape(done))
}

// refusalText says why an action was refused, with its fields.
func refusalText(err error) string {
	text := certdesk.ErrorMessage(err)
	f := certdesk.ErrorFields(err)
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text += " (" + k + " " + f[k] + ")"
	}
	return text
}

// timeline writes a case's events as sentences: "Alice Agent approved the
// merge." Actors by name, cases and profiles as links, no ids.
type timeline struct {
	ctx    context.Context
	s      *Pages
	cs     certdesk.Case
	agents map[string]string
	cases  map[string]string // case id → how a sentence names it
}

// evData is what the events carry, by key (each event sets a few).
type evData struct {
	Note, Reason, Message, Resolution, Decision, Purpose, Step, Kind  string
	MCID                                                              string   `json:"mcid"`
	TargetMCID                                                        string   `json:"target_mcid"`
	MergedMCIDs                                                       []string `json:"merged_mcids"`
	Names                                                             []string
	Assignee, Previous                                                *string
	ParentCaseID                                                      string `json:"parent_case_id"`
	MergeCaseID                                                       string `json:"merge_case_id"`
	UnmergeCaseID                                                     string `json:"unmerge_case_id"`
	ConvertedTo                                                       string `json:"converted_to"`
	ConvertedToKind                                                   string `json:"converted_to_kind"`
	AccountID                                                         string `json:"account_id"`
	Reply, NewAccount                                                 string
	RestoredMCIDs                                                     string     `json:"restored_mcids"`
	SLADueAt                                                          *time.Time `json:"sla_due_at"`
	Until                                                             *time.Time
	EndsAt                                                            *time.Time `json:"ends_at"`
	SLA, Waited, ValidFor                                             string
	Candidates, Notified, Round, Attachments, Restoring, Uncollapsing int
	Strongest                                                         string
	Held                                                              bool
	CertificationsMoved                                               int `json:"certifications_moved"`
	TranscriptMoved                                                   int `json:"transcript_moved"`
	DuplicatesCollapsed                                               int `json:"duplicates_collapsed"`
	CertificationsMoving                                              int `json:"certifications_moving"`
	TranscriptMoving                                                  int `json:"transcript_moving"`
	DuplicatesCollapsing                                              int `json:"duplicates_collapsing"`
	Counts                                                            *certdesk.UnmergeCounts
	Restored                                                          []certdesk.ProfileRef
}

func (t *timeline) sentence(ev certdesk.CaseEvent) []part {
	var d evData
	_ = json.Unmarshal(ev.Data, &d)
	who := t.who(ev.Actor)
	kind := humanizeKind(t.cs.Kind)
	var out []part
	say := func(ps ...any) {
		for _, p := range ps {
			switch p := p.(type) {
			case string:
				out = append(out, part{Text: p})
			case part:
				out = append(out, p)
			}
		}
	}
	mcid := func(m string) part { return profileLink(m) }
	mcids := func(ms []string) []any {
		var ps []any
		for i, m := range ms {
			if i > 0 {
				ps = append(ps, and(i, len(ms)))
			}
			ps = append(ps, mcid(m))
		}
		return ps
	}
	switch ev.Type {
	case certdesk.EventOpened:
		say(who, " opened the ", kind, " case")
		if d.ParentCaseID != "" {
			say(", from ", t.caseLink(d.ParentCaseID))
		}
		say(".")
	case certdesk.EventAwaitingAgent:
		say("The case waits for an agent")
		if d.SLADueAt != nil {
			say(": a decision is due by ", readable(*d.SLADueAt))
		}
		say(".")
	case certdesk.EventAwaitingLearner:
		say("The case waits for the learner to add their personal account")
		if d.Until != nil {
			say(", until ", readable(*d.Until))
		}
		say(".")
	case certdesk.EventDecided:
		switch certdesk.Decision(d.Decision) {
		case certdesk.DecisionApprove:
			say(who, " approved the ", kind)
		case certdesk.DecisionReject:
			say(who, " rejected the ", kind)
		case certdesk.DecisionRequestInfo:
			say(who, " asked the learner for more information")
		case certdesk.DecisionConvert:
			say(who, " turned the question into a case")
		default:
			say(who, " decided: ", humanize(d.Decision))
		}
		say(quoted(d.Note), ".")
	case certdesk.EventEscalated:
		say("The case was escalated to the supervisors")
		if d.SLA != "" {
			say(": it waited longer than ", duration(d.SLA))
		}
		say(".")
	case certdesk.EventLinkUsed:
		say(who, " used the link in the email")
		if d.Purpose != "" {
			say(" (", humanize(d.Purpose), ")")
		}
		say(".")
	case certdesk.EventClaimed:
		say(who, " claimed the case.")
	case certdesk.EventAssigned:
		say(who, " assigned the case to ", t.agent(d.Assignee), ".")
	case certdesk.EventTakenOver:
		say(who, " took the case over from ", t.agent(d.Previous), ".")
	case certdesk.EventReleased:
		say("The case went back to the queue: ", t.agent(d.Previous), " no longer works here.")
	case certdesk.EventNote:
		say(who, " added an internal note", quoted(d.Note), ".")
	case certdesk.EventSecurityReviewCleared:
		say(who, " closed the security review", quoted(d.Note), ".")
	case certdesk.EventEmailFailed, certdesk.EventEmailBounced:
		what := "could not be sent"
		if ev.Type == certdesk.EventEmailBounced {
			what = "bounced"
		}
		say("The ", humanize(d.Kind), " email ", what)
		if d.Reason != "" {
			say(": ", d.Reason)
		}
		say(".")
	case certdesk.EventAccountAdded:
		say(who, " added ", t.account(d.AccountID), " to their learning profile.")
	case certdesk.EventProfilesFound:
		say("certdesk looked for the learner's certification profiles.")
	case certdesk.EventMergeStarted:
		say("The profiles are to be merged first: ", t.caseLink(d.MergeCaseID), " was opened.")
	case certdesk.EventMergeFinished:
		say(t.caseLink(d.MergeCaseID), " finished")
		if d.Resolution != "" {
			say(": ", humanize(d.Resolution))
		}
		say(".")
	case certdesk.EventConnected:
		say("The learning profile is connected to ", mcid(d.MCID), ".")
	case certdesk.EventAlreadyConnected:
		say("The learning profile was already connected to ", mcid(d.MCID), ".")
	case certdesk.EventLearnerMessage:
		say(who, " wrote a message")
		if d.Attachments > 0 {
			say(" with ", plural(d.Attachments, "attachment"))
		}
		if d.Held {
			say("; it is held for review")
		}
		say(".")
	case certdesk.EventAgentReply:
		say(who, " replied to the learner.")
	case certdesk.EventConverted:
		say(who, " turned the question into ", t.caseLink(d.ConvertedTo), ".")
	case certdesk.EventPreview:
		if t.cs.Kind == certdesk.KindUnmerge {
			say("Approving undoes ", t.caseLink(d.MergeCaseID), ": ", plural(d.Restoring, "profile"), " ", verb(d.Restoring, "gets", "get"), " back what ",
				verb(d.Restoring, "it", "they"), " had")
			if d.Uncollapsing > 0 {
				say(", and ", plural(d.Uncollapsing, "duplicate certification"), " ", verb(d.Uncollapsing, "becomes its", "become their"), " own again")
			}
			say(".")
			break
		}
		say("Approving moves ", plural(d.CertificationsMoving, "certification"), " and ", plural(d.TranscriptMoving, "exam result"),
			" to ", mcid(d.TargetMCID))
		if d.DuplicatesCollapsing > 0 {
			say("; ", plural(d.DuplicatesCollapsing, "duplicate certification"), " ", verb(d.DuplicatesCollapsing, "collapses", "collapse"), " to the earliest")
		}
		say(".")
	case certdesk.EventNamesMismatch:
		say("The legal names differ (", strings.Join(d.Names, "; "), "): check the profiles belong to one person.")
	case certdesk.EventMerged:
		say(who, " merged ")
		say(mcids(d.MergedMCIDs)...)
		say(" into ", mcid(d.TargetMCID), ": ", plural(d.CertificationsMoved, "certification"), " and ", plural(d.TranscriptMoved, "exam result"), " moved.")
	case certdesk.EventVerificationSent:
		say("certdesk emailed the contact address a link to confirm it.")
	case certdesk.EventVerified:
		say("The requester confirmed the contact address")
		if d.Candidates > 0 {
			say(": ", plural(d.Candidates, "matching profile"), " found")
		} else {
			say(": no matching profile found")
		}
		say(".")
	case certdesk.EventInfoRequested:
		say(who, " asked the learner", quoted(d.Message), ".")
	case certdesk.EventReplied:
		say("The learner answered", quoted(d.Reply), ".")
	case certdesk.EventNoReply:
		say("The learner did not answer in time.")
	case certdesk.EventCoolingOff:
		say("Cooling-off for ", mcid(d.MCID))
		if d.EndsAt != nil {
			say(" until ", readable(*d.EndsAt))
		}
		say(": ", plural(d.Notified, "address"), " on file will be warned.")
	case certdesk.EventNoticesSent:
		say("certdesk warned ", plural(d.Notified, "address"), " on file, each with a \u201cthis wasn\u2019t me\u201d link.")
	case certdesk.EventNoticesUndelivered:
		say("No warning reached an address on file for ", mcid(d.MCID), ".")
	case certdesk.EventUnmerged:
		say(who, " undid ", t.caseLink(d.MergeCaseID))
		if d.Counts != nil {
			say(": ", plural(d.Counts.ProfilesRestored, "profile"), " restored, ", plural(d.Counts.CertificationsReturned, "certification"), " returned")
		}
		say(".")
	case certdesk.EventMergeUndone:
		say("This merge was undone by ", t.caseLink(d.UnmergeCaseID), ".")
	case certdesk.EventCompleted, certdesk.EventRejected, certdesk.EventExpired, certdesk.EventCancelled, certdesk.EventFailed:
		say(t.ended(ev, d, who, mcids)...)
	default:
		say(who, ": ", humanize(string(ev.Type)), ".")
	}
	return out
}

// ended says how the case ended.
func (t *timeline) ended(ev certdesk.CaseEvent, d evData, who string, mcids func([]string) []any) []any {
	var ps []any
	switch ev.Type {
	case certdesk.EventCompleted:
		ps = append(ps, "The case is completed")
		switch {
		case d.CertificationsMoved > 0 || len(d.MergedMCIDs) > 0:
			ps = append(ps, ": ", plural(d.CertificationsMoved, "certification"), " moved to ", profileLink(d.TargetMCID))
		case d.ConvertedTo != "":
			ps = append(ps, ": the question is now ", t.caseLink(d.ConvertedTo))
		case d.MCID != "" && t.cs.Kind == certdesk.KindRecovery:
			ps = append(ps, ": ", profileLink(d.MCID), " is recovered for ", t.account(d.AccountID))
		case d.Resolution != "":
			ps = append(ps, ": ", humanize(d.Resolution))
		}
	case certdesk.EventRejected:
		ps = append(ps, "The case is rejected")
		if id, ok := ev.Actor.Agent(); ok && t.agents[id] != "" {
			ps = append(ps, " by ", who)
		}
	case certdesk.EventExpired:
		ps = append(ps, "The case expired")
	case certdesk.EventCancelled:
		ps = append(ps, "The case is cancelled")
	case certdesk.EventFailed:
		ps = append(ps, "The case failed")
	}
	switch {
	case d.Reason != "":
		ps = append(ps, ": ", d.Reason)
	case d.Note != "" && ev.Type != certdesk.EventCompleted:
		ps = append(ps, quoted(d.Note))
	}
	return append(ps, ".")
}

// who names an actor in a sentence.
func (t *timeline) who(a certdesk.Actor) string { return t.s.actorWords(t.ctx, a, t.agents, true) }

func (t *timeline) agent(id *string) string {
	if id == nil || *id == "" {
		return "nobody"
	}
	if n := t.agents[*id]; n != "" {
		return n
	}
	return "a former agent"
}

func (t *timeline) account(id string) string {
	if id != "" {
		if acct, err := t.s.store.Account(t.ctx, id); err == nil {
			return "the account " + acct.Email
		}
	}
	return "an account"
}

// caseLink names a case by its kind and reference, linked.
func (t *timeline) caseLink(id string) part {
	if id == "" {
		return part{Text: "a case"}
	}
	name, ok := t.cases[id]
	if !ok {
		name = "case " + certdesk.Reference(id)
		if c, err := t.s.store.Case(t.ctx, id); err == nil {
			name = "the " + humanizeKind(c.Kind) + " case " + certdesk.Reference(id)
		}
		t.cases[id] = name
	}
	return part{Text: name, URL: "/console/cases/" + id}
}

// profileLink names a profile by its MCID, linked to the profile lookup.
func profileLink(mcid string) part {
	if mcid == "" {
		return part{Text: "a profile"}
	}
	return part{Text: "MCID " + mcid, URL: "/console/profiles?q=" + url.QueryEscape(mcid)}
}

func humanizeKind(k certdesk.Kind) string {
	if k == certdesk.KindInquiry {
		return "question"
	}
	return string(k)
}

func humanize(s string) string { return strings.ReplaceAll(s, "_", " ") }

// quoted adds a typed text to a sentence: `: “…”`.
func quoted(s string) string {
	if s = strings.TrimSpace(s); s == "" {
		return ""
	}
	return ": \u201c" + s + "\u201d"
}

// plural says a count with its noun: 1 certification, 2 certifications.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "s") {
		return strconv.Itoa(n) + " " + noun + "es"
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// and joins the i-th of n items: ", " between, " and " before the last.
func and(i, n int) string {
	if i == n-1 {
		return " and "
	}
	return ", "
}

// readable is a time as people read it; the page's script shows it in the
// reader's own time zone.
func readable(at time.Time) part {
	return part{Text: at.UTC().Format("Mon 2 Jan 2006, 15:04 UTC"), At: &at}
}

// duration says "24h0m0s" as "24 hours".
func duration(s string) string {
	d, err := time.ParseDuration(s)
	if err != nil {
		return s
	}
	switch {
	case d%(24*time.Hour) == 0:
		return plural(int(d/(24*time.Hour)), "day")
	case d%time.Hour == 0:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return plural(int(d/time.Minute), "minute")
	}
	return d.String()
}

// indent is an event's data as indented JSON.
func indent(data json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, data, "", "  ") != nil {
		return string(data)
	}
	return b.String()
}

// viewers remembers who has a case page open, for "Also viewing: Bob". It
// is this process's memory, refreshed by the page every few seconds:
// behind several instances each knows the viewers it serves.
var viewers = &presence{seen: map[string]map[string]time.Time{}}

// viewerTTL is how long a page counts as open after its last sign of life.
const viewerTTL = 15 * time.Second

type presence struct {
	mu   sync.Mutex
	seen map[string]map[string]time.Time // case → agent → last seen
}

// saw records that agent has the case open and returns the others who do.
func (pr *presence) saw(caseID, agent string, now time.Time) []string {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	for id, m := range pr.seen { // forget what went quiet
		for a, at := range m {
			if now.Sub(at) > viewerTTL {
				delete(m, a)
			}
		}
		if len(m) == 0 {
			delete(pr.seen, id)
		}
	}
	m := pr.seen[caseID]
	if m == nil {
		m = map[string]time.Time{}
		pr.seen[caseID] = m
	}
	if agent != "" {
		m[agent] = now
	}
	var others []string
	for a := range m {
		if a != agent {
			others = append(others, a)
		}
	}
	sort.Strings(others)
	return others
}

// viewingText says who else is on the case: "Also viewing: Bob Agent".
func viewingText(ids []string, names map[string]string) string {
	var ns []string
	for _, id := range ids {
		if n := names[id]; n != "" {
			ns = append(ns, n)
		}
	}
	if len(ns) == 0 {
		return ""
	}
	return "Also viewing: " + strings.Join(ns, ", ")
}

// caseViewers is GET /console/cases/:id/viewers, the page's sign of life:
// it answers who else has the case open.
func (s *Pages) caseViewers(c *gin.Context) {
	p := request.Caller(c)
	_, names, err := s.agentNames(c.Request.Context())
	if err != nil {
		s.html.Error(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"text": viewingText(viewers.saw(c.Param("id"), p.AgentID, s.now()), names)})
}
