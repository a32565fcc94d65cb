package desk

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"
	"unicode/utf8"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// A case's conversation: learners write (by replying to a case email, or
// from the portal), agents answer (a public reply, emailed from the case's
// reply address). See the README's "Conversations".

// Limits of a conversation.
const (
	// MaxMessage bounds a message's text (an email's new text is cut
	// there, with a marker; a reply or a portal message is refused).
	MaxMessage = 10_000
	// MaxAttachments and MaxAttachmentSize bound one message's files.
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20
)

// AcceptedAttachmentTypes are the files evidence may come as: images and
// PDF, by their content (never their name or declared type).
var AcceptedAttachmentTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"}

type ReplyRequest struct {
	// Body is the reply, sent to the learner and shown in their portal.
	Body string `json:"body" form:"body"`
	// CannedID, when set, names the canned response Body started from
	// (recorded; Body is what is sent).
	CannedID string `json:"canned_id" form:"canned_id"`
}

type MessageRequest struct {
	Body string `json:"body" form:"body"`
}

// Reply records an agent's public reply on the case and emails it to the
// learner from the case's reply address (a CaseReply workflow: retried
// through provider outages, sent once).
func (s *Desk) Reply(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, req ReplyRequest) (m store.Message, err error) {
	defer func() {
		s.auditAction(ctx, p, "reply", cs, map[string]any{"message_id": m.ID, "canned_id": req.CannedID}, err)
	}()
	if !p.Role.Staff() {
		return m, certdesk.Errorf(certdesk.EFORBIDDEN, "only staff reply to a case")
	}
	// A canned response's placeholders are filled for this case, whether
	// the page filled them or the agent typed them.
	body, err := messageText(certdesk.FillCanned(req.Body, certdesk.CannedValues(cs)), "body")
	if err != nil {
		return m, err
	}
	if cs.LearnerEmail == "" {
		return m, certdesk.Errorf(certdesk.ECONFLICT, "this case has no learner address to reply to")
	}
	m = store.Message{CaseID: cs.ID, Direction: store.MessageOut, Author: p.Actor(), ToAddr: cs.LearnerEmail,
		Subject: "Re: " + cs.Subject, Body: body}
	if _, err := s.store.RecordMessage(ctx, &m, nil, certdesk.EventAgentReply); err != nil {
		return m, err
	}
	if s.temporal == nil {
		return m, certdesk.Errorf(certdesk.EUNAVAILABLE, "Temporal is not configured: the reply is on the case, not emailed")
	}
	if ctx, err = s.about(ctx, cs.LearnerEmail); err != nil {
		return m, err
	}
	_, err = s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.CaseReplyWorkflowID(m.ID), TaskQueue: s.cfg.TaskQueue},
		workflows.CaseReply, workflows.CaseReplyInput{CaseID: cs.ID, MessageID: m.ID, To: cs.LearnerEmail, ToName: cs.LearnerName,
			Subject: "A message about your support case", Body: body})
	if err != nil {
		return m, &certdesk.Error{Code: certdesk.EUNAVAILABLE, Message: "the reply is on the case, but its email could not be started; send it again", Err: err}
	}
	return m, nil
}

// LearnerMessage records what a learner writes on their own open case
// from the portal, with its attachments (checked like an email's), and
// hands an answer to a recovery's question to the case.
func (s *Desk) LearnerMessage(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, req MessageRequest, files []store.NewAttachment) (store.Message, error) {
	if p.Role != certdesk.RoleLearner {
		return store.Message{}, certdesk.Errorf(certdesk.EFORBIDDEN, "only the learner writes here; staff reply")
	}
	return s.writeMessage(ctx, cs, p.Actor(), p.Email, req, files)
}

// CaseByToken is the case a link in its learner's emails opens
// (/portal/cases/{id}/t/{token}): the token is the one of the case's reply
// address for the learner the case is about, so it opens that case for
// nobody else. Anything else is "no such case".
func (s *Desk) CaseByToken(ctx context.Context, id, token string) (certdesk.Case, error) {
	notFound := certdesk.Errorf(certdesk.ENOTFOUND, "no case %q", id)
	if !certdesk.ValidID(id) {
		return certdesk.Case{}, notFound
	}
	cs, err := s.store.Case(ctx, id)
	if err != nil || cs.LearnerEmail == "" || !s.ReplyAddresses().CheckToken(token, cs.ID, cs.LearnerEmail) {
		return certdesk.Case{}, notFound
	}
	return cs, nil
}

// ContactMessage records what the learner a case is about writes through
// the case's link in their emails (a recovering learner has no sign-in):
// as a reply by email from their address would be.
func (s *Desk) ContactMessage(ctx context.Context, cs certdesk.Case, req MessageRequest, files []store.NewAttachment) (store.Message, error) {
	return s.writeMessage(ctx, cs, certdesk.EmailActor(cs.LearnerEmail), cs.LearnerEmail, req, files)
}

// writeMessage records a learner's message written in certdesk and hands
// an answer to a recovery's question to the case.
func (s *Desk) writeMessage(ctx context.Context, cs certdesk.Case, author certdesk.Actor, from string, req MessageRequest, files []store.NewAttachment) (store.Message, error) {
	if cs.Status.Terminal() {
		return store.Message{}, certdesk.Errorf(certdesk.ECONFLICT, "the case is %s: open a new one to write to us", cs.Status)
	}
	body, err := messageText(req.Body, "body")
	if err != nil {
		return store.Message{}, err
	}
	kept, refused, err := CheckAttachments(files)
	if err != nil {
		return store.Message{}, err
	}
	if len(refused) > 0 {
		return store.Message{}, certdesk.Invalid(map[string]string{"attachments": strings.Join(refused, "; ")})
	}
	m := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: author, FromAddr: from, Body: body}
	if _, err := s.store.RecordMessage(ctx, &m, kept, certdesk.EventLearnerMessage); err != nil {
		return m, err
	}
	s.answerQuestion(ctx, cs, from, body)
	return m, nil
}

// Messages returns a case's conversation as the caller may see it: staff
// all of it, the learner without the held messages.
func (s *Desk) Messages(ctx context.Context, p *certdesk.Principal, cs certdesk.Case) ([]store.Message, error) {
	return s.store.Messages(ctx, cs.ID, p.Role.Staff())
}

// Attachment returns an attachment of a case for staff, and records that
// they viewed it (evidence is personal data).
func (s *Desk) Attachment(ctx context.Context, p *certdesk.Principal, id string) (store.Attachment, error) {
	if !p.Role.Staff() {
		return store.Attachment{}, certdesk.Errorf(certdesk.ENOTFOUND, "no attachment %q", id)
	}
	if !certdesk.ValidID(id) {
		return store.Attachment{}, certdesk.Errorf(certdesk.ENOTFOUND, "no attachment %q", id)
	}
	a, err := s.store.Attachment(ctx, id)
	if err != nil {
		return a, err
	}
	s.Audit(ctx, p.Actor(), "attachment_viewed", a.CaseID, p.ClientAddr, map[string]any{"attachment_id": a.ID, "filename": a.Filename})
	if a.PurgedAt != nil {
		return a, certdesk.Errorf(certdesk.EGONE, "this file was deleted on %s, when the case's retention ended", a.PurgedAt.UTC().Format("2 January 2006"))
	}
	return a, nil
}

// CheckAttachments keeps the files that are evidence (an accepted type by
// their content, within the size limit) and says why each other one was
// refused. More than MaxAttachments is EINVALID.
func CheckAttachments(files []store.NewAttachment) (kept []store.NewAttachment, refused []string, err error) {
	if len(files) > MaxAttachments {
		return nil, nil, certdesk.Invalid(map[string]string{"attachments": fmt.Sprintf("at most %d files", MaxAttachments)})
	}
	for _, f := range files {
		name := safeFilename(f.Filename)
		typ := http.DetectContentType(f.Data)
		switch {
		case len(f.Data) == 0:
			refused = append(refused, name+": empty")
		case len(f.Data) > MaxAttachmentSize:
			refused = append(refused, fmt.Sprintf("%s: larger than %d MB", name, MaxAttachmentSize>>20))
		case !accepted(typ):
			refused = append(refused, name+": not an image or a PDF")
		default:
			kept = append(kept, store.NewAttachment{Filename: name, ContentType: typ, Data: f.Data})
		}
	}
	return kept, refused, nil
}

func accepted(typ string) bool {
	for _, t := range AcceptedAttachmentTypes {
		if typ == t {
			return true
		}
	}
	return false
}

// safeFilename keeps a file's base name, printable, at most 100
// characters: it is shown to agents, never trusted.
func safeFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "")
	}
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	if name == "" || name == "." || name == "/" {
		name = "attachment"
	}
	return name
}

// messageText checks a message written in certdesk.
func messageText(body, field string) (string, error) {
	body = strings.TrimSpace(body)
	if body == "" || len(body) > MaxMessage {
		return "", certdesk.Invalid(map[string]string{field: fmt.Sprintf("write the message (at most %d characters)", MaxMessage)})
	}
	return body, nil
}

// answerQuestion hands a learner's message to a recovery that waits for
// their answer to an agent's question, as the reply link's form does: the
// open reply link of the case for that address is used with the text. A
// case that asked nothing (or not of this address) is left as it is.
func (s *Desk) answerQuestion(ctx context.Context, cs certdesk.Case, from, body string) {
	if cs.Kind != certdesk.KindRecovery || cs.Status != certdesk.StatusAwaitingLearner {
		return
	}
	hash, ok, err := s.store.OpenReplyLink(ctx, cs.ID, from, workflows.PurposeReply)
	if err != nil || !ok {
		return
	}
	if len(body) > certdesk.MaxNote {
		body = body[:certdesk.MaxNote]
	}
	_, _, _ = s.UseLink(ctx, hash, body)
}

// CannedRequest creates or changes a canned response.
type CannedRequest struct {
	Name string `json:"name" form:"name"`
	Body string `json:"body" form:"body"`
}

// CannedResponses lists the canned responses (staff).
func (s *Desk) CannedResponses(ctx context.Context, p *certdesk.Principal) ([]store.CannedResponse, error) {
	if !p.Role.Staff() {
		return nil, certdesk.Errorf(certdesk.EFORBIDDEN, "staff only")
	}
	return s.store.CannedResponses(ctx)
}

// SaveCanned creates (id "") or changes a canned response: supervisors
// manage them.
func (s *Desk) SaveCanned(ctx context.Context, p *certdesk.Principal, id string, req CannedRequest) (c store.CannedResponse, err error) {
	defer func() {
		s.Audit(ctx, p.Actor(), "canned_response_saved", "", p.ClientAddr, map[string]any{"id": c.ID, "name": c.Name, "error": errText(err)})
	}()
	if p.Role != certdesk.RoleSupervisor {
		return c, certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor manages canned responses")
	}
	fields := map[string]string{}
	name, body := strings.TrimSpace(req.Name), strings.TrimSpace(req.Body)
	if name == "" || len(name) > 100 {
		fields["name"] = "name it (at most 100 characters)"
	}
	if body == "" || len(body) > certdesk.MaxNote {
		fields["body"] = fmt.Sprintf("write its text (at most %d characters)", certdesk.MaxNote)
	} else if bad := certdesk.UnknownPlaceholders(body); len(bad) > 0 {
		fields["body"] = "unknown placeholder " + strings.Join(bad, ", ") + " (use {{name}}, {{mcid}}, {{reference}})"
	}
	if len(fields) > 0 {
		return c, certdesk.Invalid(fields)
	}
	c = store.CannedResponse{ID: id, Name: name, Body: body, UpdatedBy: p.Actor()}
	return c, s.store.SaveCannedResponse(ctx, &c)
}

// DeleteCanned removes a canned response (supervisors).
func (s *Desk) DeleteCanned(ctx context.Context, p *certdesk.Principal, id string) error {
	if p.Role != certdesk.RoleSupervisor {
		return certdesk.Errorf(certdesk.EFORBIDDEN, "only a supervisor manages canned responses")
	}
	return s.store.DeleteCannedResponse(ctx, id)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return certdesk.ErrorMessage(err)
}
