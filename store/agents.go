package store

import (
	"context"
	"fmt"

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

// Agents lists agents (role "" for all), by name.
func (s *Store) Agents(ctx context.Context, role certdesk.Role) ([]certdesk.Agent, error) {
	var out []certdesk.Agent
	q := s.db.WithContext(ctx).Order("name, id")
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
	if err := s.db.WithContext(ctx).Create(a).Error; err != nil {
		return fmt.Errorf("store: create agent: %w", translate(err))
	}
	return nil
}
