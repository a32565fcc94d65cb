// Package workflows holds certdesk's case workflows: Connect, Merge, Unmerge,
// Recovery and the InactivitySweep. It is deterministic code only: every
// side effect is an activity (package activities), every wait a timer, a
// signal or an update.
package workflows

import (
	"time"
)

// Duration is a time.Duration that reads well in a workflow's history
// (JSON "48h0m0s" rather than nanoseconds).
type Duration time.Duration

// D returns the time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
