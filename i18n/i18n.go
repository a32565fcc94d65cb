// Package i18n speaks to learners in their language: the catalogue of every
// learner-facing message (catalog.go), the choice of a language for a
// request, and dates written the way the language writes them. Messages are
// keyed by their English text (golang.org/x/text/message's convention), so
// code and templates read in English and a missing translation falls back
// to it; TestEveryMessageIsTranslated fails on any gap. Agents' pages stay
// English.
package i18n

import (
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The languages learners are served in, English first (the fallback).
const (
	English    = "en"
	Spanish    = "es"
	French     = "fr"
	German     = "de"
	Japanese   = "ja"
	Portuguese = "pt-BR"
)

// Langs lists the languages in the order the switcher shows them.
var Langs = []string{English, Spanish, French, German, Japanese, Portuguese}

// Names are the languages' names in themselves, for the switcher.
var Names = map[string]string{English: "English", Spanish: "Español", French: "Français", German: "Deutsch",
	Japanese: "日本語", Portuguese: "Português (Brasil)"}

// dateLayouts write a date the way each language does.
var dateLayouts = map[string]string{English: "2 Jan 2006", Spanish: "2/1/2006", French: "02/01/2006",
	German: "02.01.2006", Japanese: "2006年1月2日", Portuguese: "02/01/2006"}

var (
	tags    []language.Tag
	matcher language.Matcher
	cat     = catalog.NewBuilder(catalog.Fallback(language.English))
)

func init() {
	for _, l := range Langs {
		tags = append(tags, language.MustParse(l))
	}
	matcher = language.NewMatcher(tags)
	for key, tr := range messages {
		_ = cat.SetString(language.English, key, key)
		for l, text := range tr {
			_ = cat.SetString(language.MustParse(l), key, text)
		}
	}
}

// Locale is one language's way of saying things.
type Locale struct {
	// Lang is the language's BCP 47 tag, as <html lang> names it.
	Lang string
	p    *message.Printer
}

// For is the locale of a language in Langs (English for any other).
func For(lang string) Locale {
	for i, l := range Langs {
		if strings.EqualFold(l, lang) {
			return Locale{Lang: l, p: message.NewPrinter(tags[i], message.Catalog(cat))}
		}
	}
	return For(English)
}

// Supported is whether a language is one learners are served in.
func Supported(lang string) bool {
	for _, l := range Langs {
		if strings.EqualFold(l, lang) {
			return true
		}
	}
	return false
}

// Choose picks a request's language: the one asked for (?lang=), else the
// one the learner chose before (their cookie), else the best match of the
// browser's Accept-Language, else English.
func Choose(asked, stored, acceptLanguage string) Locale {
	for _, l := range []string{asked, stored} {
		if Supported(l) {
			return For(l)
		}
	}
	if acceptLanguage != "" {
		prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
		if err == nil && len(prefs) > 0 {
			_, i, conf := matcher.Match(prefs...)
			if conf != language.No {
				return For(Langs[i])
			}
		}
	}
	return For(English)
}

// T is a message in the locale's language; args fill its verbs (%s, %d).
func (l Locale) T(key string, args ...any) string {
	if l.p == nil {
		l = For(l.Lang)
	}
	return l.p.Sprintf(key, args...)
}

// Date writes a day the locale's way.
func (l Locale) Date(t time.Time) string {
	layout, ok := dateLayouts[l.Lang]
	if !ok {
		layout = dateLayouts[English]
	}
	return t.UTC().Format(layout)
}

// Name is the language's name in itself.
func (l Locale) Name() string { return Names[l.Lang] }

// Has is whether the catalogue has a message.
func Has(key string) bool {
	_, ok := messages[key]
	return ok
}
