package mail

import (
	"math"
	"strings"
	"time"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// TimeLayout is how a time reads in an English email (and how workflows
// write the times they put in a message's data: "Mon 2 Jan 2006, 15:04
// MST"); a message in another language rewrites them its way.
const TimeLayout = "Mon 2 Jan 2006, 15:04 MST"

// timeLayouts write a time the way each language does.
var timeLayouts = map[string]string{
	"es":    "2/1/2006, 15:04 MST",
	"fr":    "02/01/2006 à 15:04 MST",
	"de":    "02.01.2006, 15:04 MST",
	"ja":    "2006年1月2日 15:04 MST",
	"pt-BR": "02/01/2006 às 15:04 MST",
}

// FormatTime writes a time for a message in a language (English for ""
// or a language without a layout), in UTC.
func FormatTime(t time.Time, locale string) string {
	layout, ok := timeLayouts[canonicalLocale(locale)]
	if !ok {
		layout = TimeLayout
	}
	return t.UTC().Format(layout)
}

// ToStaff reports whether a kind is written to staff: it is always in
// English, as the console is.
func ToStaff(kind string) bool {
	switch kind {
	case CaseEscalated, CaseSecurityReview, CaseFailed, CaseAssigned:
		return true
	}
	return false
}

// canonicalLocale is a locale as the templates' directories name it
// ("pt-br" is "pt-BR"); "" for English.
func canonicalLocale(locale string) string {
	for _, l := range Locales() {
		if strings.EqualFold(l, locale) {
			return l
		}
	}
	return ""
}

// messageLocale is the language a message is written in: "" (English) for
// staff, or a language it has no templates in.
func messageLocale(m Message) string {
	if ToStaff(m.Kind) {
		return ""
	}
	return canonicalLocale(m.Locale)
}

// localized is a message's data written the way its language writes
// times and numbers (a copy; English data is as the workflow wrote it).
func localized(m Message) map[string]any {
	locale := messageLocale(m)
	if locale == "" || len(m.Data) == 0 {
		return m.Data
	}
	p := message.NewPrinter(language.Make(locale))
	out := make(map[string]any, len(m.Data))
	for k, v := range m.Data {
		switch x := v.(type) {
		case time.Time:
			v = FormatTime(x, locale)
		case string:
			if t, err := time.Parse(TimeLayout, x); err == nil {
				v = FormatTime(t, locale)
			}
		case int:
			v = p.Sprintf("%d", x)
		case int64:
			v = p.Sprintf("%d", x)
		case float64: // a number that came through JSON
			if x == math.Trunc(x) && math.Abs(x) < 1e15 {
				v = p.Sprintf("%d", int64(x))
			}
		}
		out[k] = v
	}
	return out
}
