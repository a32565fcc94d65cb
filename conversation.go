package certdesk

import (
	"regexp"
	"strings"
	"time"
)

// DefaultAttachmentRetention is how long attachments are kept after their
// case ends (CERTDESK_ATTACHMENT_RETENTION): evidence such as an ID
// document is personal data, kept no longer than the case needs it.
const DefaultAttachmentRetention = 30 * 24 * time.Hour

// A case's conversation: learners' messages and agents' replies. The
// messages themselves are in the store; the timeline says one came.
const (
	EventLearnerMessage EventType = "learner_message" // a learner wrote (by email or from the portal)
	EventAgentReply     EventType = "agent_reply"     // an agent answered the learner
)

// Canned responses hold placeholders filled in for the case at hand.
var placeholder = regexp.MustCompile(`\{\{\s*([a-z_]+)\s*\}\}`)

// CannedPlaceholders are the placeholders a canned response may hold.
var CannedPlaceholders = []string{"name", "mcid", "reference"}

// UnknownPlaceholders lists the placeholders of a text that are not
// CannedPlaceholders.
func UnknownPlaceholders(text string) []string {
	var out []string
	for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
		known := false
		for _, p := range CannedPlaceholders {
			known = known || m[1] == p
		}
		if !known {
			out = append(out, m[0])
		}
	}
	return out
}

// FillCanned fills a canned response's placeholders; one without a value
// is left out.
func FillCanned(text string, values map[string]string) string {
	return placeholder.ReplaceAllStringFunc(text, func(s string) string {
		return values[strings.TrimSpace(strings.Trim(s, "{}"))]
	})
}

// CannedValues are the values of a case's placeholders: the learner's
// name, the case's (first) MCID, and the reference people quote.
func CannedValues(cs Case) map[string]string {
	v := map[string]string{"name": cs.LearnerName, "reference": cs.ID}
	if len(cs.MCIDs) > 0 {
		v["mcid"] = cs.MCIDs[0]
	}
	return v
}
