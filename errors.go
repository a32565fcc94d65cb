package certdesk

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. Each maps to one HTTP status in api's error mapper.
const (
	EINVALID         = "invalid"         // the caller's input is wrong
	EUNAUTHENTICATED = "unauthenticated" // nobody is signed in
	EFORBIDDEN       = "forbidden"       // signed in, but not allowed
	ENOTFOUND        = "not_found"       // no such thing (or not visible to the caller)
	ECONFLICT        = "conflict"        // the state does not allow it, or a unique rule is broken
	EGONE            = "gone"            // it existed but can no longer be used (an expired link)
	ERATELIMITED     = "rate_limited"    // too many requests
	ETOOLARGE        = "too_large"       // the request's body is over the limit
	EMETHOD          = "method_not_allowed"
	EUNAVAILABLE     = "unavailable" // a dependency is down
	EINTERNAL        = "internal"    // a bug or an unexpected failure
)

// Error is the one error type that crosses package boundaries. Its Message is
// written for the caller; internal detail stays in the wrapped Err.
type Error struct {
	Code    string
	Message string
	// Fields holds per-field messages for EINVALID.
	Fields map[string]string
	Err    error
}

// Sentinels for errors.Is: any *Error with the same code matches.
var (
	ErrNotFound = &Error{Code: ENOTFOUND, Message: "not found"}
	ErrConflict = &Error{Code: ECONFLICT, Message: "conflict"}
)

func (e *Error) Error() string {
	switch {
	case e.Err != nil && e.Message != "":
		return e.Message + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotFound) true for every not-found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error with a message for the caller.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error with one message per field.
func Invalid(fields map[string]string) *Error {
	return &Error{Code: EINVALID, Message: "the request has invalid fields", Fields: fields}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message meant for the caller. Internal errors get a
// generic message: their text may carry details nobody outside should see.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL && e.Message != "" {
		return e.Message
	}
	return "An internal error occurred. It has been logged; please try again later."
}

// ErrorFields returns the per-field messages of an EINVALID error.
func ErrorFields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// ToStatus is the HTTP status of an error code: the only place that knows
// the mapping (the JSON API, the pages and the sign-in all answer by it).
func ToStatus(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case EINVALID:
		return http.StatusBadRequest
	case EUNAUTHENTICATED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT:
		return http.StatusConflict
	case EGONE:
		return http.StatusGone
	case EMETHOD:
		return http.StatusMethodNotAllowed
	case ERATELIMITED:
		return http.StatusTooManyRequests
	case ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
