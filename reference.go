package certdesk

import "strings"

// referenceLen is how many characters of a case id its reference shows.
const referenceLen = 5

// Reference is the short reference of a case shown to people ("CD-4F7K2"),
// for a learner to quote and an agent to search: "CD-" and the last five
// characters of the case's id, upper-cased. They are Crockford base32 and
// random (NewID), so references rarely repeat; a search by one lists every
// case that has it. A migration computes the same for existing cases
// (store/migrations/0016_reference.sql): keep the two alike.
func Reference(caseID string) string {
	tail := caseID
	if len(tail) > referenceLen {
		tail = tail[len(tail)-referenceLen:]
	}
	return "CD-" + strings.ToUpper(tail)
}

// IsReference is whether s reads as a case reference (any case).
func IsReference(s string) bool {
	return len(s) == len("CD-")+referenceLen && strings.EqualFold(s[:3], "CD-")
}
