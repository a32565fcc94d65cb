// Package activities holds everything a workflow does that has a side
// effect: store reads and writes, email, link tokens. Activities are methods
// on one struct that carries the dependencies. Each says in one line what
// makes a retry harmless.
package activities

import (
	"time"

	"github.com/certdesk/certdesk/store"
)

// Activities are registered with the worker as one struct.
type Activities struct {
	Store *store.Store
	// Clock is the time; nil is time.Now.
	Clock func() time.Time
}

func (a *Activities) now() time.Time {
	if a.Clock != nil {
		return a.Clock().UTC()
	}
	return time.Now().UTC()
}
