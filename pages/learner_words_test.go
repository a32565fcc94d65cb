package pages

import (
	"encoding/json"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/i18n"
)

// Every sentence the learner's pages build in Go is in the catalogue, so
// it is translated (i18n.TestEveryMessageIsTranslated checks the rest).
func TestLearnerWordsAreInTheCatalogue(t *testing.T) {
	var words []string
	resolutions := []string{"", certdesk.ConnectConnected, certdesk.ConnectAlreadyConnected, certdesk.MergeMerged, certdesk.ResolutionRecovered}
	merge, _ := json.Marshal(certdesk.ConnectDetails{MergeCaseID: "m"})
	for _, k := range certdesk.Kinds {
		words = append(words, caseTitle(k))
		for _, st := range certdesk.Statuses {
			for _, r := range resolutions {
				for _, d := range [][]byte{[]byte(`{}`), merge} {
					for _, esc := range []bool{false, true} {
						cs := certdesk.Case{Kind: k, Status: st, Resolution: r, Details: d, Escalated: esc}
						words = append(words, stateWords(cs), nextStep(cs), outcomeText(cs))
					}
				}
			}
		}
	}
	for _, done := range []string{"connect", "account", "message", "question"} {
		words = append(words, noticeOfPortal(done, false), noticeOfPortal(done, true))
	}
	for _, p := range purposeTexts {
		words = append(words, p[:]...)
	}
	for _, s := range stateTexts {
		words = append(words, s[:]...)
	}
	for _, f := range recoveryFields {
		words = append(words, f[1])
	}
	v := endedView(certdesk.Case{Kind: certdesk.KindRecovery})
	words = append(words, v.Explain, v.NextText, "See your cases in your learning profile", "Thank you", "Too many tries",
		"Nothing was changed. Please try again in a minute.", "Continue your support case", "Confirm to continue.", "Continue",
		"We have it, and your case is being updated. Your learning profile will show the result in a moment.",
		"Certification profile", "The account it would move to", "Asked on", "The change would take effect on", "My certification profile",
		"Recover access to your certification profile", "The form is out of date. Please send it again.")
	for _, w := range words {
		if w != "" && !i18n.Has(w) {
			t.Errorf("%q is not in the catalogue", w)
		}
	}
}
