package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

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
	case certdesk.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
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

// refuse answers an error the way the request expects: the error page for
// a browser's page or form, the error shape for everything else.
func (s *Server) refuse(c *gin.Context, err error) {
	if answersJSON(c) {
		fail(c, err)
		return
	}
	s.errorPage(c, err)
}

// answersJSON reports whether a request is answered in JSON: the API,
// webhooks, the codec, health and metrics, static files and anything sent
// as JSON; the rest are pages and their forms.
func answersJSON(c *gin.Context) bool {
	p := c.Request.URL.Path
	for _, prefix := range []string{"/api/", "/webhooks/", "/codec/", "/static/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	switch p {
	case "/healthz", "/readyz", "/metrics":
		return true
	}
	return c.ContentType() == "application/json"
}

// decodeJSON reads a JSON body strictly: unknown fields, trailing data and
// strings that are not text (see checkText) are EINVALID, a body over the
// limit ETOOLARGE.
func decodeJSON(c *gin.Context, dst any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return certdesk.Errorf(certdesk.EINVALID, "send the body as application/json")
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return jsonError(err)
	}
	// encoding/json quietly turns invalid UTF-8 into U+FFFD. Invalid bytes
	// become U+FFFE instead, which checkText refuses, so the field that
	// held them is named.
	valid := utf8.Valid(raw)
	if !valid {
		raw = []byte(strings.ToValidUTF8(string(raw), `\ufffe`))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return certdesk.Errorf(certdesk.EINVALID, "the body has data after the JSON object")
	}
	if err := checkText(dst); err != nil {
		return err
	}
	if !valid {
		return certdesk.Invalid(map[string]string{"body": "is not valid UTF-8 text"})
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
		return errTooLarge
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
