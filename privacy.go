package certdesk

import "time"

// DefaultRetention is how long a case keeps its personal data after it
// ended (CERTDESK_RETENTION): then the daily sweep redacts it, keeping the
// case's shape for statistics. Attachments go sooner
// (DefaultAttachmentRetention).
const DefaultRetention = 2 * 365 * 24 * time.Hour

// ResolutionErased ends a case that was open when its learner's personal
// data was erased (store.ErasePerson).
const ResolutionErased = "erased"
