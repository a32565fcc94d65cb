package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// Agent finds an agent or supervisor by id.
func (s *Store) Agent(ctx context.Context, id string) (certdesk.Agent, error) {
	var a certdesk.Agent
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&a).Error; err != nil {
		return a, fmt.Errorf("store: agent %q: %w", id, translate(err))
	}
	return a, nil
}

// AgentByEmail finds an agent or supervisor by email.
func (s *Store) AgentByEmail(ctx context.Context, email string) (certdesk.Agent, error) {
	var a certdesk.Agent
	if err := s.db.WithContext(ctx).Where("email = ?", certdesk.NormalizeEmail(email)).Take(&a).Error; err != nil {
		return a, fmt.Errorf("store: agent by email: %w", translate(err))
	}
	return a, nil
}

// Agents lists the active agents and supervisors (role "" for both), by
// name: who may be assigned a case or told about one.
func (s *Store) Agents(ctx context.Context, role certdesk.Role) ([]certdesk.Agent, error) {
	return s.staff(ctx, role, true)
}

// Staff lists every member, disabled ones too, by name.
func (s *Store) Staff(ctx context.Context) ([]certdesk.Agent, error) {
	return s.staff(ctx, "", false)
}

func (s *Store) staff(ctx context.Context, role certdesk.Role, activeOnly bool) ([]certdesk.Agent, error) {
	var out []certdesk.Agent
	q := s.db.WithContext(ctx).Order("name, id")
	if activeOnly {
		q = q.Where("disabled_at IS NULL")
	}
	if role != "" {
		q = q.Where("role = ?", role)
	}
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: agents: %w", translate(err))
	}
	return out, nil
}

// CreateAgent inserts an agent; a taken email is ECONFLICT.
func (s *Store) CreateAgent(ctx context.Context, a *certdesk.Agent) error {
	a.Email = certdesk.NormalizeEmail(a.Email)
	if a.ID == "" {
		a.ID = certdesk.NewID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.now()
	}
	if a.Source == "" {
		a.Source = certdesk.StaffByHand
	}
	if err := s.db.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("store: create agent: %w", translate(err))
	}
	return nil
}

// StaffIdentity is a staff member as a sign-in (or `certdesk staff`) says.
type StaffIdentity struct {
	Subject string // the provider's issuer|subject; "" by hand
	Email   string
	Name    string
	Role    certdesk.Role
}

// StaffSignIn records a sign-in whose ID token gives a staff role: the
// member is created, or updated (name, email, role, last sign-in) and
// bound to the subject; the provider decides their role from now on. A
// member whose role had been removed is enabled again; one a person
// disabled stays disabled (EFORBIDDEN).
func (s *Store) StaffSignIn(ctx context.Context, id StaffIdentity) (certdesk.Agent, error) {
	var a certdesk.Agent
	now := s.now()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		err := identityRow(tx, &a, id.Subject, id.Email)
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			a = certdesk.Agent{ID: certdesk.NewID(), Email: certdesk.NormalizeEmail(id.Email), Name: id.Name, Role: id.Role,
				OIDCSubject: &id.Subject, Source: certdesk.StaffFromProvider, LastSignInAt: &now, CreatedAt: now}
			return tx.Create(&a).Error
		case err != nil:
			return err
		case a.DisabledReason == certdesk.StaffDisabled:
			return staffDisabled(a)
		}
		name := a.Name
		if id.Name != "" {
			name = id.Name
		}
		return tx.Model(&a).Clauses(clause.Returning{}).Updates(map[string]any{"name": name, "email": certdesk.NormalizeEmail(id.Email),
			"role": id.Role, "oidc_subject": id.Subject, "source": certdesk.StaffFromProvider, "last_sign_in_at": now,
			"disabled_at": nil, "disabled_reason": ""}).Error
	})
	if err != nil {
		return a, fmt.Errorf("store: staff sign-in: %w", translate(err))
	}
	return a, nil
}

func staffDisabled(a certdesk.Agent) error {
	return certdesk.Errorf(certdesk.EFORBIDDEN, "Your certdesk staff access (%s) is disabled. Ask a supervisor or an administrator.", a.Email)
}

// StaffRoleRemoved records a sign-in of a member the provider decides
// whose ID token gives no staff role any more: they are disabled, their
// sessions and tokens end, and their open claims go back to the queue. A
// member added by hand is left as they are (their role is not the
// provider's to remove). It returns the member (ENOTFOUND when the
// identity is nobody's on the staff).
func (s *Store) StaffRoleRemoved(ctx context.Context, subject, email string) (certdesk.Agent, error) {
	var a certdesk.Agent
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := identityRow(tx, &a, subject, email); err != nil {
			return err
		}
		if a.Source != certdesk.StaffFromProvider || !a.Active() {
			return nil
		}
		return s.disableStaff(tx, &a, certdesk.StaffRoleRemoved)
	})
	if err != nil {
		return a, fmt.Errorf("store: staff role removed: %w", translate(err))
	}
	return a, nil
}

// AddStaff adds a member by hand (`certdesk staff add`); a taken email is
// ECONFLICT.
func (s *Store) AddStaff(ctx context.Context, id StaffIdentity) (certdesk.Agent, error) {
	a := certdesk.Agent{Email: id.Email, Name: id.Name, Role: id.Role, Source: certdesk.StaffByHand}
	if a.Name == "" {
		a.Name, _, _ = strings.Cut(certdesk.NormalizeEmail(id.Email), "@")
	}
	err := s.CreateAgent(ctx, &a)
	if certdesk.ErrorCode(err) == certdesk.ECONFLICT {
		return a, certdesk.Errorf(certdesk.ECONFLICT, "%s is on the staff already (certdesk staff list; set-role or enable)", a.Email)
	}
	return a, err
}

// SetStaffRole changes a member's role by hand; from then on the role is
// the staff list's, not the provider's.
func (s *Store) SetStaffRole(ctx context.Context, email string, role certdesk.Role) (certdesk.Agent, error) {
	return s.updateStaff(ctx, email, func(tx *gorm.DB, a *certdesk.Agent) error {
		return tx.Model(a).Clauses(clause.Returning{}).Updates(map[string]any{"role": role, "source": certdesk.StaffByHand}).Error
	})
}

// DisableStaff disables a member at once: sessions and tokens revoked, open
// claims back to the queue (a released event on each case). Only `certdesk
// staff enable` undoes it.
func (s *Store) DisableStaff(ctx context.Context, email string) (certdesk.Agent, error) {
	return s.updateStaff(ctx, email, func(tx *gorm.DB, a *certdesk.Agent) error {
		if a.DisabledReason == certdesk.StaffDisabled {
			return nil
		}
		return s.disableStaff(tx, a, certdesk.StaffDisabled)
	})
}

// EnableStaff enables a disabled member; they sign in again.
func (s *Store) EnableStaff(ctx context.Context, email string) (certdesk.Agent, error) {
	return s.updateStaff(ctx, email, func(tx *gorm.DB, a *certdesk.Agent) error {
		return tx.Model(a).Clauses(clause.Returning{}).Updates(map[string]any{"disabled_at": nil, "disabled_reason": ""}).Error
	})
}

func (s *Store) updateStaff(ctx context.Context, email string, fn func(tx *gorm.DB, a *certdesk.Agent) error) (certdesk.Agent, error) {
	var a certdesk.Agent
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("email = ?", certdesk.NormalizeEmail(email)).Take(&a).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return certdesk.Errorf(certdesk.ENOTFOUND, "nobody on the staff has the address %s (certdesk staff list)", email)
			}
			return err
		}
		return fn(tx, &a)
	})
	if err != nil {
		return a, fmt.Errorf("store: staff %s: %w", email, translate(err))
	}
	return a, nil
}

// disableStaff disables a member inside a transaction: the row, their
// sessions and tokens, their open claims.
func (s *Store) disableStaff(tx *gorm.DB, a *certdesk.Agent, reason string) error {
	now := s.now()
	if err := tx.Model(a).Clauses(clause.Returning{}).Updates(map[string]any{"disabled_at": now, "disabled_reason": reason}).Error; err != nil {
		return err
	}
	if err := tx.Model(&Session{}).Where("subject = ? AND revoked_at IS NULL", "agent:"+a.ID).Update("revoked_at", now).Error; err != nil {
		return err
	}
	if err := tx.Model(&AccessToken{}).Where("agent_id = ? AND revoked_at IS NULL", a.ID).Update("revoked_at", now).Error; err != nil {
		return err
	}
	var held []string
	if err := tx.Model(&caseRow{}).Where("assignee_id = ? AND closed_at IS NULL", a.ID).Order("id").Pluck("id", &held).Error; err != nil {
		return err
	}
	none := ""
	for _, id := range held {
		_, _, err := s.changeCase(tx, Change{CaseID: id, Assignee: &none, Event: Event{Actor: certdesk.ActorSystem, Type: certdesk.EventReleased,
			Data: map[string]any{"previous": a.ID, "reason": reason}}})
		if err != nil {
			return err
		}
	}
	return nil
}

// StaffSignedIn records a member's sign-in (the staff list shows it).
func (s *Store) StaffSignedIn(ctx context.Context, id string) error {
	if err := s.db.WithContext(ctx).Model(&certdesk.Agent{}).Where("id = ?", id).Update("last_sign_in_at", s.now()).Error; err != nil {
		return fmt.Errorf("store: staff signed in: %w", translate(err))
	}
	return nil
}
