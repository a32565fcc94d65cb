package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// Event is what a change appends to a case's timeline.
type Event struct {
	Actor certdesk.Actor
	Type  certdesk.EventType
	Data  any // marshalled to JSON; nil is {}
}

// Case finds a case by id.
func (s *Store) Case(ctx context.Context, id string) (certdesk.Case, error) {
	var r caseRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return certdesk.Case{}, fmt.Errorf("store: case %q: %w", id, translate(err))
	}
	return r.domain(), nil
}

// OpenCase inserts a case's projection with its first event, unless a case
// with this id exists (then it changes nothing and returns false). The API
// and the workflow's first step both call it, so it is there as soon as
// either has run.
func (s *Store) OpenCase(ctx context.Context, c *certdesk.Case, ev Event) (bool, error) {
	now := s.now()
	if c.Status == "" {
		c.Status = certdesk.StatusOpen
	}
	if len(c.Details) == 0 {
		c.Details = json.RawMessage(`{}`)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = c.CreatedAt
	c.Version = 1
	data, err := eventData(ev.Data)
	if err != nil {
		return false, err
	}
	created := false
	err = s.tx(ctx, func(tx *gorm.DB) error {
		row := rowOf(*c)
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		created = true
		// The short reference people quote, searchable by its index.
		if err := tx.Table("cases").Where("id = ?", c.ID).Update("reference", certdesk.Reference(c.ID)).Error; err != nil {
			return err
		}
		if err := tx.Create(&certdesk.CaseEvent{CaseID: c.ID, Seq: 1, At: now, Actor: ev.Actor, Type: ev.Type, Data: data}).Error; err != nil {
			return err
		}
		return s.emit(tx, certdesk.EventCaseOpened, c.ID, "case.opened:"+c.ID, caseChanged(c.ID, c.Kind, c.Status, c.Resolution, c.MCIDs))
	})
	if err != nil {
		return false, fmt.Errorf("store: open case: %w", err)
	}
	if !created {
		*c, err = s.Case(ctx, c.ID)
	}
	return created, err
}

// Change is one change to a case's projection, applied together with the
// event that records it. Zero fields leave the column as it is.
type Change struct {
	CaseID string
	// WorkflowStep, when set, makes the change idempotent: it applies only
	// when the case's last applied workflow step is lower, so a retried or
	// replayed activity writes nothing twice.
	WorkflowStep int64
	// ExpectVersion, when set, refuses the change with ECONFLICT unless the
	// case is still at this version (the console's "changed since loaded").
	ExpectVersion int64

	Status         certdesk.Status
	Resolution     string
	Escalated      *bool
	Unreachable    *bool
	SecurityReview *bool
	// Assignee: nil leaves it, a pointer to "" unassigns.
	Assignee *string
	// SLADueAt: nil leaves it; ClearSLA removes it.
	SLADueAt *time.Time
	ClearSLA bool
	// Details replaces the kind's details when not nil.
	Details json.RawMessage
	Subject string
	// ProfileIDs and MCIDs, when not nil, replace the certification
	// profiles the case is about (the console searches them).
	ProfileIDs []string
	MCIDs      []string
	// AccountID, when set, links the case to a learner's account (who
	// sees it in their portal).
	AccountID *string

	Event Event
	// Audit, when set, is written in the change's transaction when the
	// change applies (its actor and case are the change's): an agent's
	// action recorded with its audit row in one commit, not two.
	Audit *AuditEntry
}

// ChangeCase applies a change and appends its event in one transaction. The
// case's version grows by one and the event's seq is the new version, so the
// timeline has no gaps. It returns the case after the change and whether the
// change applied (false: this workflow step was applied before).
func (s *Store) ChangeCase(ctx context.Context, ch Change) (certdesk.Case, bool, error) {
	var (
		c       certdesk.Case
		applied bool
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		c, applied, err = s.changeCase(tx, ch)
		return err
	})
	if err != nil {
		return c, false, fmt.Errorf("store: change case %q: %w", ch.CaseID, err)
	}
	return c, applied, nil
}

// changeCase is ChangeCase inside a caller's transaction: one UPDATE that
// checks the step (and the version a caller expects) and returns the row,
// then the event. Only a change that applies nothing reads the row again,
// to say why.
func (s *Store) changeCase(tx *gorm.DB, ch Change) (certdesk.Case, bool, error) {
	data, err := eventData(ch.Event.Data)
	if err != nil {
		return certdesk.Case{}, false, err
	}
	now := s.now()
	set := map[string]any{"version": gorm.Expr("version + 1"), "updated_at": now}
	if ch.WorkflowStep > 0 {
		set["workflow_step"] = ch.WorkflowStep
	}
	if ch.Status != "" {
		set["status"] = ch.Status
		if ch.Status.Terminal() {
			set["closed_at"] = gorm.Expr("COALESCE(closed_at, ?)", now)
		}
	}
	if ch.Resolution != "" {
		set["resolution"] = ch.Resolution
	}
	for col, v := range map[string]*bool{"escalated": ch.Escalated, "unreachable": ch.Unreachable, "security_review": ch.SecurityReview} {
		if v != nil {
			set[col] = *v
		}
	}
	if ch.Assignee != nil {
		if *ch.Assignee == "" {
			set["assignee_id"] = nil
		} else {
			set["assignee_id"] = *ch.Assignee
		}
	}
	if ch.SLADueAt != nil {
		set["sla_due_at"] = ch.SLADueAt.UTC()
	}
	if ch.ClearSLA {
		set["sla_due_at"] = nil
	}
	if ch.Details != nil {
		set["details"] = ch.Details
	}
	if ch.Subject != "" {
		set["subject"] = ch.Subject
	}
	if ch.ProfileIDs != nil {
		set["profile_ids"] = strings.Join(ch.ProfileIDs, " ")
	}
	if ch.MCIDs != nil {
		set["mcids"] = strings.Join(ch.MCIDs, " ")
	}
	if ch.AccountID != nil {
		set["account_id"] = *ch.AccountID
	}
	var r caseRow
	q := tx.Model(&r).Clauses(clause.Returning{}).Where("id = ?", ch.CaseID)
	if ch.WorkflowStep > 0 {
		q = q.Where("workflow_step < ?", ch.WorkflowStep)
	}
	if ch.ExpectVersion > 0 {
		q = q.Where("version = ?", ch.ExpectVersion)
	}
	res := q.Updates(set)
	if res.Error != nil {
		return certdesk.Case{}, false, res.Error
	}
	if res.RowsAffected == 0 {
		// Nothing applied: say why, from the row as it is.
		if err := tx.Where("id = ?", ch.CaseID).Take(&r).Error; err != nil {
			return certdesk.Case{}, false, err
		}
		c := r.domain()
		if ch.WorkflowStep > 0 && c.WorkflowStep >= ch.WorkflowStep {
			return c, false, nil // applied before: a retry or a replay
		}
		return c, false, certdesk.Errorf(certdesk.ECONFLICT, "the case changed since you loaded it (now at version %d, you had %d)", c.Version, ch.ExpectVersion)
	}
	ev := certdesk.CaseEvent{CaseID: r.ID, Seq: r.Version, At: now, Actor: ch.Event.Actor, Type: ch.Event.Type, Data: data}
	if err := tx.Create(&ev).Error; err != nil {
		return certdesk.Case{}, false, err
	}
	if a := ch.Audit; a != nil {
		e := AuditEntry{ID: certdesk.NewID(), At: now, Actor: ch.Event.Actor, Action: a.Action, CaseID: r.ID, ClientAddr: a.ClientAddr, Data: a.Data}
		if len(e.Data) == 0 {
			e.Data = json.RawMessage(`{}`)
		}
		if err := tx.Create(&e).Error; err != nil {
			return certdesk.Case{}, false, err
		}
	}
	c := r.domain()
	if ch.Status.Terminal() {
		if err := s.emit(tx, certdesk.EventCaseEnded, c.ID, "case.ended:"+c.ID, caseChanged(c.ID, c.Kind, c.Status, c.Resolution, c.MCIDs)); err != nil {
			return certdesk.Case{}, false, err
		}
	}
	return c, true, nil
}

// Events returns a case's timeline after seq (0 for all), oldest first.
func (s *Store) Events(ctx context.Context, caseID string, afterSeq int64, limit int) ([]certdesk.CaseEvent, error) {
	var out []certdesk.CaseEvent
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	err := s.db.WithContext(ctx).Where("case_id = ? AND seq > ?", caseID, afterSeq).Order("seq").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: events of %q: %w", caseID, translate(err))
	}
	return out, nil
}

// CasesOfWorkflow returns the cases run by a workflow id, newest first (a
// connect workflow id is reused by a learner's later cases).
func (s *Store) CasesOfWorkflow(ctx context.Context, workflowID string) ([]certdesk.Case, error) {
	var rows []caseRow
	err := s.db.WithContext(ctx).Where("workflow_id = ?", workflowID).Order("id DESC").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: cases of workflow %q: %w", workflowID, translate(err))
	}
	return domainCases(rows), nil
}

func eventData(v any) (json.RawMessage, error) {
	switch d := v.(type) {
	case nil:
		return json.RawMessage(`{}`), nil
	case json.RawMessage:
		if len(d) == 0 {
			return json.RawMessage(`{}`), nil
		}
		return d, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("store: event data: %w", err)
	}
	return b, nil
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return errors.Is(err, certdesk.ErrNotFound) }

// FailCase records that a case's workflow failed for a reason nobody
// planned for: the case shows failed, with the reason on its timeline, so a
// request that was answered 2xx is never lost. A case whose projection was
// never written (its opening failed) is opened first, from what c holds
// with its text made storable. step makes a retry a no-op.
func (s *Store) FailCase(ctx context.Context, c certdesk.Case, step int64, reason string) (certdesk.Case, error) {
	var out certdesk.Case
	err := s.tx(ctx, func(tx *gorm.DB) error {
		open := caseRow{ID: c.ID, Kind: c.Kind, Status: certdesk.StatusOpen, Subject: storable(c.Subject),
			LearnerName: storable(c.LearnerName), LearnerEmail: storable(c.LearnerEmail), Requester: c.Requester,
			LearningProfileID: c.LearningProfileID, AccountID: c.AccountID, ParentCaseID: c.ParentCaseID,
			WorkflowID: c.WorkflowID, RunID: c.RunID, Details: json.RawMessage(`{}`), CreatedAt: s.now(), Version: 1}
		open.UpdatedAt = open.CreatedAt
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&open)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 1 {
			err := tx.Create(&certdesk.CaseEvent{CaseID: c.ID, Seq: 1, At: open.CreatedAt, Actor: c.Requester, Type: certdesk.EventOpened,
				Data: json.RawMessage(`{}`)}).Error
			if err != nil {
				return err
			}
		}
		var err error
		out, _, err = s.changeCase(tx, Change{CaseID: c.ID, WorkflowStep: step, Status: certdesk.StatusFailed,
			Resolution: certdesk.ResolutionWorkflowFailed, ClearSLA: true,
			Event: Event{Actor: certdesk.ActorSystem, Type: certdesk.EventFailed, Data: map[string]string{"reason": storable(reason)}}})
		return err
	})
	if err != nil {
		return out, fmt.Errorf("store: fail case %q: %w", c.ID, err)
	}
	return out, nil
}

// storable is text as both databases keep it: valid UTF-8 without NUL.
func storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// caseChanged is the data of case.opened and case.ended.
func caseChanged(id string, k certdesk.Kind, st certdesk.Status, resolution string, mcids []string) certdesk.CaseChangedData {
	if mcids == nil {
		mcids = []string{}
	}
	return certdesk.CaseChangedData{CaseID: id, Kind: k, Status: st, Resolution: resolution, MCIDs: mcids}
}
