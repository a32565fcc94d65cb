package activities

import (
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
)

// nonRetryable marks business errors (not found, conflict, invalid) so
// Temporal does not retry them: a retry would get the same answer. Other
// errors (a dropped connection) stay retryable. The error's type is its
// code, so workflows can tell them apart.
func nonRetryable(err error) error {
	switch code := certdesk.ErrorCode(err); code {
	case "", certdesk.EINTERNAL, certdesk.EUNAVAILABLE:
		return err
	default:
		return temporal.NewNonRetryableApplicationError(certdesk.ErrorMessage(err), code, err)
	}
}
