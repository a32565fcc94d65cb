package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// status maps an error code to its HTTP status. It is the only place that
// knows the mapping.
func status(code string) int {
	switch code {
	case certdesk.EINVALID:
		return http.StatusBadRequest
	case certdesk.EUNAUTHENTICATED:
		return http.StatusUnauthorized
	case certdesk.EFORBIDDEN:
		return http.StatusForbidden
	case certdesk.ENOTFOUND:
		return http.StatusNotFound
	case certdesk.ECONFLICT:
		return http.StatusConflict
	case certdesk.EGONE:
		return http.StatusGone
	case certdesk.EMETHOD:
		return http.StatusMethodNotAllowed
	case certdesk.ERATELIMITED:
		return http.StatusTooManyRequests
	case certdesk.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code      string            `json:"code"`
	Message   string            `json:"message"`
	Fields    map[string]string `json:"fields,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
}

// fail answers an error in the contract's shape. Internal errors are logged
// with their detail and answered with a generic message.
func fail(c *gin.Context, err error) {
	code := certdesk.ErrorCode(err)
	logIfInternal(c, err)
	c.AbortWithStatusJSON(status(code), errorBody{Error: errorDetail{
		Code:      code,
		Message:   certdesk.ErrorMessage(err),
		Fields:    certdesk.ErrorFields(err),
		RequestID: requestID(c),
	}})
}

// logIfInternal logs an error the caller cannot fix, with its detail.
func logIfInternal(c *gin.Context, err error) {
	if code := certdesk.ErrorCode(err); code == certdesk.EINTERNAL || code == certdesk.EUNAVAILABLE {
		slog.ErrorContext(c.Request.Context(), "request failed", "err", err, "request_id", requestID(c),
			"method", c.Request.Method, "path", c.FullPath())
	}
}

func logAuditFailure(ctx context.Context, err error) {
	slog.ErrorContext(ctx, "audit log write failed", "err", err)
}

// maxBody bounds every request body.
const maxBody = 1 << 20

// decodeJSON reads a JSON body strictly: unknown fields, trailing data and
// bodies over the limit are EINVALID.
func decodeJSON(c *gin.Context, dst any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return certdesk.Errorf(certdesk.EINVALID, "send the body as application/json")
	}
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return certdesk.Errorf(certdesk.EINVALID, "the body has data after the JSON object")
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
		unknown   = strings.HasPrefix(err.Error(), "json: unknown field ")
		fieldName = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
	)
	switch {
	case errors.As(err, &maxErr):
		return certdesk.Errorf(certdesk.EINVALID, "the body is larger than %d bytes", maxBody)
	case errors.Is(err, io.EOF):
		return certdesk.Errorf(certdesk.EINVALID, "the body is empty; send a JSON object")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return certdesk.Errorf(certdesk.EINVALID, "the body is not valid JSON")
	case errors.As(err, &typeErr):
		return certdesk.Invalid(map[string]string{typeErr.Field: "has the wrong type; expected " + typeErr.Type.String()})
	case unknown:
		return certdesk.Invalid(map[string]string{fieldName: "is not a field of this request"})
	}
	return certdesk.Errorf(certdesk.EINVALID, "the body could not be read as JSON")
}
