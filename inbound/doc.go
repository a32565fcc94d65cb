// Package inbound receives learners' email: the replies to case emails that
// SendGrid's Inbound Parse webhook posts to certdesk.
//
// Every case email carries a reply address, reply+<token>@<inbound domain>
// (ReplyAddresses), whose token names the case and is signed for the
// recipient it was sent to. A reply reaches SendGrid through the inbound
// domain's MX record; SendGrid posts it as a multipart form, signed with
// the webhook security policy's key (Verifier). Parse turns the form into a
// Message, NewText keeps what the learner wrote (no quoted history, no
// signature), and IsAutomatic recognises the mail that must never be
// answered: auto-replies, bounces, mailing lists and certdesk's own mail
// coming back.
//
// The package knows nothing of cases or the store: the webhook's handler
// decides what a Message becomes.
package inbound

// WebhookPath is where SendGrid's Inbound Parse posts the mail of the
// inbound domain.
const WebhookPath = "/webhooks/sendgrid/inbound"
