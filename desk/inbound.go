package desk

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// Inbound outcomes: what became of an email SendGrid posted. Every one is
// answered 200 (SendGrid would retry anything else); only the log and the
// case say more.
const (
	InboundRecorded  = "recorded"  // on the case's conversation
	InboundHeld      = "held"      // on the case, held for an agent
	InboundDuplicate = "duplicate" // its Message-ID was recorded already
	InboundInquiry   = "inquiry"   // to the support address: a new inquiry
	InboundDropped   = "dropped"   // no case, forged address, or automatic mail to the support address
)

// InboundResult says what became of a message.
type InboundResult struct {
	Outcome string `json:"outcome"`
	CaseID  string `json:"case_id,omitempty"`
	// Reason explains a held or dropped message (for the log: never
	// shown to the sender).
	Reason string `json:"-"`
}

// ReplyAddresses are the installation's reply addresses (none without an
// inbound domain).
func (s *Desk) ReplyAddresses() inbound.ReplyAddresses {
	return inbound.AddressesFor(s.cfg.Secret, s.cfg.Inbound.Domain)
}

// ReplyTo is the reply address of a case for a recipient ("" when replies
// are not configured): every case email to a learner carries it.
func (s *Desk) ReplyTo(caseID, recipient string) string {
	return s.ReplyAddresses().For(caseID, recipient)
}

// ReceiveInbound turns an email posted by SendGrid (already verified) into
// what it is: a learner's message on the case whose reply address it was
// sent to, held for an agent when it is not from that address's recipient
// or its sender is not authenticated or it is automatic; a new inquiry when
// written to the support address; nothing otherwise. Recorded once by its
// Message-ID. A learner's answer to a recovery's question moves the case
// on, exactly as the reply form does; nothing automatic ever does, and
// nothing here sends an email (so no two auto-responders can loop through
// certdesk).
func (s *Desk) ReceiveInbound(ctx context.Context, m inbound.Message) (InboundResult, error) {
	automatic, why := inbound.IsAutomatic(m)
	caseID, fromRecipient, err := s.ReplyAddresses().Find(m)
	switch {
	case errors.Is(err, inbound.ErrBadToken):
		return InboundResult{Outcome: InboundDropped, Reason: "a reply address certdesk did not make"}, nil
	case errors.Is(err, inbound.ErrNoReplyAddress):
		if !s.toSupport(m) {
			return InboundResult{Outcome: InboundDropped, Reason: "to no reply address and not to the support address"}, nil
		}
		if automatic {
			return InboundResult{Outcome: InboundDropped, Reason: "automatic mail to the support address: " + why}, nil
		}
		return s.inquiryByEmail(ctx, m)
	case err != nil:
		return InboundResult{}, err
	}
	cs, err := s.store.Case(ctx, caseID)
	if certdesk.ErrorCode(err) == certdesk.ENOTFOUND {
		return InboundResult{Outcome: InboundDropped, Reason: "the case does not exist"}, nil
	} else if err != nil {
		return InboundResult{}, err
	}
	msg := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: certdesk.EmailActor(m.From), FromAddr: m.From,
		Subject: clip(m.Subject, certdesk.MaxSubject), Body: emailText(m)}
	switch {
	case automatic:
		msg.Held, msg.HeldReason = true, "automatic mail: "+why
	case !fromRecipient:
		msg.Held, msg.HeldReason = true, "not from the address this case wrote to"
	case !authenticated(m):
		msg.Held, msg.HeldReason = true, "the sender's domain did not authenticate it (SPF and DKIM failed)"
	}
	files, refused := emailFiles(m)
	if len(refused) > 0 {
		msg.Body += "\n\n[certdesk left out: " + strings.Join(refused, "; ") + "]"
	}
	key := messageKey(m)
	msg.MessageKey = &key
	recorded, err := s.store.RecordMessage(ctx, &msg, files, certdesk.EventLearnerMessage)
	if err != nil {
		return InboundResult{}, err
	}
	res := InboundResult{Outcome: InboundRecorded, CaseID: cs.ID, Reason: msg.HeldReason}
	switch {
	case !recorded:
		res.Outcome = InboundDuplicate
	case msg.Held:
		res.Outcome = InboundHeld
	default:
		s.answerQuestion(ctx, cs, m.From, msg.Body)
	}
	return res, nil
}

// toSupport reports whether the message was sent to the support address.
func (s *Desk) toSupport(m inbound.Message) bool {
	addr := certdesk.NormalizeEmail(s.cfg.Inbound.SupportAddress)
	for _, to := range m.To {
		if addr != "" && certdesk.NormalizeEmail(to) == addr {
			return true
		}
	}
	return false
}

// inquiryByEmail opens an inquiry for a message to the support address.
// Its case id comes from the Message-ID, so SendGrid's retry of the post
// finds the case it opened.
func (s *Desk) inquiryByEmail(ctx context.Context, m inbound.Message) (InboundResult, error) {
	key := messageKey(m)
	sum := sha256.Sum256([]byte("inquiry-by-email:" + key))
	var b [16]byte
	copy(b[:], sum[:16])
	id := certdesk.IDFromBytes(b)
	subject := clip(strings.TrimSpace(m.Subject), certdesk.MaxSubject)
	if subject == "" {
		subject = "A question by email"
	}
	name := m.FromName
	if name == "" {
		name = m.From
	}
	in := workflows.InquiryInput{CaseID: id, Subject: subject, Channel: "email", RequestedBy: certdesk.EmailActor(m.From),
		LearnerName: name, LearnerEmail: m.From}
	if acct, err := s.store.AccountByEmail(ctx, m.From); err == nil && authenticated(m) {
		// A known address: the inquiry is the learner's, in their portal.
		in.AccountID = acct.ID
		if acct.LearningProfileID != nil {
			in.LearningProfileID = *acct.LearningProfileID
		}
	}
	first := store.Message{Direction: store.MessageIn, Author: certdesk.EmailActor(m.From), FromAddr: m.From, Subject: subject,
		Body: emailText(m), MessageKey: &key}
	if !authenticated(m) {
		first.Held, first.HeldReason = true, "the sender's domain did not authenticate it (SPF and DKIM failed)"
	}
	files, refused := emailFiles(m)
	if len(refused) > 0 {
		first.Body += "\n\n[certdesk left out: " + strings.Join(refused, "; ") + "]"
	}
	// A retried post: the case is there (open or not); its first message
	// is recorded once.
	if _, err := s.store.Case(ctx, id); err == nil {
		first.CaseID = id
		_, err := s.store.RecordMessage(ctx, &first, files, certdesk.EventLearnerMessage)
		return InboundResult{Outcome: InboundDuplicate, CaseID: id}, err
	} else if certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
		return InboundResult{}, err
	}
	if _, err := s.limits.Check(ctx, inquiryPerSender, certdesk.MailboxKey(m.From)); certdesk.ErrorCode(err) == certdesk.ERATELIMITED {
		return InboundResult{Outcome: InboundDropped, Reason: "more questions from this mailbox than the limit in the last hour"}, nil
	} else if err != nil {
		return InboundResult{}, err
	}
	cs, err := s.openInquiry(ctx, in, first, files, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING)
	if err != nil {
		return InboundResult{}, err
	}
	return InboundResult{Outcome: InboundInquiry, CaseID: cs.ID}, nil
}

// messageKey is what a message is recorded once by: its Message-ID, else
// (a sender that set none) a digest of what identifies it.
func messageKey(m inbound.Message) string {
	if m.MessageID != "" {
		return m.MessageID
	}
	sum := sha256.Sum256([]byte(m.From + "\x00" + strings.Join(m.To, ",") + "\x00" + m.Subject + "\x00" + m.Text))
	return fmt.Sprintf("sha256:%x", sum[:16])
}

// authenticated: SendGrid found the sender's domain behind the message
// (SPF passed, or a DKIM signature did). A forged From fails both.
func authenticated(m inbound.Message) bool {
	return strings.EqualFold(strings.TrimSpace(m.SPF), "pass") || strings.Contains(strings.ToLower(m.DKIM), "pass")
}

var tags = regexp.MustCompile(`(?s)<(script|style)[^>]*>.*?</(script|style)>|<[^>]+>`)

// emailText is what the learner wrote: the new text of the plain-text part
// (of the HTML part without its markup when there is none), at most
// MaxMessage characters.
func emailText(m inbound.Message) string {
	text := m.Text
	if strings.TrimSpace(text) == "" && m.HTML != "" {
		text = html.UnescapeString(tags.ReplaceAllString(strings.NewReplacer("<br>", "\n", "<br/>", "\n", "</p>", "\n\n", "</div>", "\n").Replace(m.HTML), ""))
	}
	text = strings.TrimSpace(inbound.NewText(text))
	if text == "" {
		text = "(no text)"
	}
	if len(text) > MaxMessage {
		const marker = "\n[certdesk cut the rest: longer than the limit]"
		text = clip(text, MaxMessage-len(marker)) + marker
	}
	return text
}

// emailFiles keeps a message's files within the limits; an email cannot be
// refused, so what is left out is named on the message.
func emailFiles(m inbound.Message) ([]store.NewAttachment, []string) {
	refused := append([]string(nil), m.Refused...)
	var files []store.NewAttachment
	for _, a := range m.Attachments {
		if len(files) == MaxAttachments {
			refused = append(refused, safeFilename(a.Filename)+": more than "+fmt.Sprint(MaxAttachments)+" files")
			continue
		}
		files = append(files, store.NewAttachment{Filename: a.Filename, ContentType: a.ContentType, Data: a.Data})
	}
	kept, bad, err := CheckAttachments(files)
	if err != nil {
		slog.Warn("inbound attachments", "err", err)
		return nil, append(refused, "every file")
	}
	return kept, append(refused, bad...)
}

// clip cuts s at n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
