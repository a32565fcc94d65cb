package i18n

import (
	"context"

	"golang.org/x/text/language"
)

// Preference is what a learner's request says of their language: the one
// they chose with the switcher (?lang= or its cookie), and the best match
// of their browser's Accept-Language. Either may be "".
type Preference struct {
	Chosen   string
	Accepted string
}

// Prefer reads a request's preference from what it asked (?lang=), the
// language it chose before (the cookie) and its Accept-Language.
func Prefer(asked, stored, acceptLanguage string) Preference {
	var p Preference
	for _, l := range []string{asked, stored} {
		if Supported(l) {
			p.Chosen = For(l).Lang
			break
		}
	}
	if prefs, _, err := language.ParseAcceptLanguage(acceptLanguage); err == nil && len(prefs) > 0 {
		if _, i, conf := matcher.Match(prefs...); conf != language.No {
			p.Accepted = Langs[i]
		}
	}
	return p
}

// Over is the language to write to the learner in, given the one kept on
// their learning profile: the one they chose now, else the kept one, else
// their browser's ("" when nothing is known: English).
func (p Preference) Over(kept string) string {
	switch {
	case p.Chosen != "":
		return p.Chosen
	case Supported(kept):
		return For(kept).Lang
	}
	return p.Accepted
}

type preferenceKey struct{}

// WithPreference carries a learner's request's language preference to
// what it starts (a case, whose emails then speak it).
func WithPreference(ctx context.Context, p Preference) context.Context {
	return context.WithValue(ctx, preferenceKey{}, p)
}

// PreferenceOf is the preference WithPreference put in ctx (zero when none
// did: an agent's action, a system's call).
func PreferenceOf(ctx context.Context) Preference {
	p, _ := ctx.Value(preferenceKey{}).(Preference)
	return p
}
