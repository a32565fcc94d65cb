package desk

import (
	"context"
	"log/slog"

	"github.com/certdesk/certdesk/i18n"
)

// learnerLanguage is the language of a case opened for a learning profile
// ("" = English): the one the learner chose with the portal's switcher, now
// kept on their learning profile for the mail that comes later (a merge an
// agent opens, the inactivity sweep); else the one kept before; else their
// browser's Accept-Language. A store failure costs only the language.
func (s *Desk) learnerLanguage(ctx context.Context, learningProfileID string) string {
	p := i18n.PreferenceOf(ctx)
	if learningProfileID == "" {
		return p.Over("")
	}
	kept, err := s.store.LearningProfileLanguage(ctx, learningProfileID)
	if err != nil {
		slog.WarnContext(ctx, "learner's language not read", "learning_profile", learningProfileID, "err", err)
	}
	if p.Chosen != "" && p.Chosen != kept {
		if err := s.store.SetLanguage(ctx, learningProfileID, p.Chosen); err != nil {
			slog.WarnContext(ctx, "learner's language not kept", "learning_profile", learningProfileID, "err", err)
		}
	}
	return p.Over(kept)
}

// addressLanguage is the language of a case opened from a public form
// (nobody signed in): the request's choice, else the one kept for the
// address, else the browser's.
func (s *Desk) addressLanguage(ctx context.Context, email string) string {
	kept, err := s.store.LanguageOf(ctx, email)
	if err != nil {
		slog.WarnContext(ctx, "address's language not read", "err", err)
	}
	return i18n.PreferenceOf(ctx).Over(kept)
}
