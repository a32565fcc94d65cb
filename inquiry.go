package certdesk

// An inquiry is a learner's general question: written from the portal or
// to the support address, answered by an agent in the case's
// conversation, and closed as answered — or turned into the connect, merge
// or recovery case the learner needs, which links back to it.

// KindInquiry is the kind of a general question.
const KindInquiry Kind = "inquiry"

// The decisions an inquiry takes.
const (
	// DecisionResolve closes an inquiry as answered.
	DecisionResolve Decision = "resolve"
	// DecisionConvert closes it as turned into another case (the desk
	// starts that case first and names it).
	DecisionConvert Decision = "convert"
)

// InquiryDecisions are the decisions an inquiry case takes.
var InquiryDecisions = []Decision{DecisionResolve, DecisionConvert}

// Resolutions of an inquiry.
const (
	InquiryAnswered  = "answered"
	InquiryConverted = "converted"
)

// EventConverted: the inquiry was turned into another case (data names it).
const EventConverted EventType = "converted"

// MaxSubject bounds an inquiry's subject.
const MaxSubject = 200

// InquiryDetails is an inquiry case's details.
type InquiryDetails struct {
	Subject string `json:"subject"`
	// Channel is how it came: "portal" or "email".
	Channel string `json:"channel"`
	// ConvertedTo names the case it was turned into.
	ConvertedTo     string `json:"converted_to,omitempty"`
	ConvertedToKind Kind   `json:"converted_to_kind,omitempty"`
}
