// Package request reads what comes in, the same way for the JSON API, the
// pages and the sign-in: who is calling (set by the sign-in's middleware),
// the request's id, the client's address, and JSON bodies and text checked
// before anything runs.
package request

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

const (
	callerKey    = "certdesk.caller"
	csrfKey      = "certdesk.csrf"
	requestIDKey = "certdesk.request_id"
)

// SetCaller records who is calling, with the CSRF token of their forms.
func SetCaller(c *gin.Context, p *certdesk.Principal, csrf string) {
	c.Set(callerKey, p)
	c.Set(csrfKey, csrf)
}

// Caller is who is calling, or nil for an anonymous caller.
func Caller(c *gin.Context) *certdesk.Principal {
	if p, ok := c.Get(callerKey); ok {
		return p.(*certdesk.Principal)
	}
	return nil
}

// CallerOf names the caller in logs.
func CallerOf(c *gin.Context) string {
	if p := Caller(c); p != nil {
		return string(p.Actor())
	}
	return "anonymous"
}

// CSRF is the CSRF token of the signed-in caller's forms ("" when anonymous).
func CSRF(c *gin.Context) string { return c.GetString(csrfKey) }

// SetID records the request's id; ID reads it.
func SetID(c *gin.Context, id string) { c.Set(requestIDKey, id) }

// ID is the request's id (logs, error answers).
func ID(c *gin.Context) string { return c.GetString(requestIDKey) }

// ClientAddr is the address a request comes from, for per-client limits:
// the peer's, or X-Forwarded-For's behind the proxies CERTDESK_TRUSTED_PROXIES
// names; an IPv6 client by its /64, which one machine usually holds whole.
func ClientAddr(c *gin.Context) string {
	ip := net.ParseIP(c.ClientIP())
	switch {
	case ip == nil:
		return c.ClientIP()
	case ip.To4() == nil:
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// AnswersJSON reports whether a request is answered in JSON: the API,
// webhooks, the codec, health and metrics, static files and anything sent
// as JSON; the rest are pages and their forms.
func AnswersJSON(c *gin.Context) bool {
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

// MaxBody bounds every request body.
const MaxBody = 1 << 20

// DecodeJSON reads a JSON body strictly: unknown fields, trailing data and
// strings that are not text (see CheckText) are EINVALID, a body over the
// limit ETOOLARGE.
func DecodeJSON(c *gin.Context, dst any) error {
	if ct := c.ContentType(); ct != "application/json" {
		return certdesk.Errorf(certdesk.EINVALID, "send the body as application/json")
	}
	raw, err := io.ReadAll(c.Request.Body)
	if err != nil {
		return JSONError(err)
	}
	// encoding/json quietly turns invalid UTF-8 into U+FFFD. Invalid bytes
	// become U+FFFE instead, which CheckText refuses, so the field that
	// held them is named.
	valid := utf8.Valid(raw)
	if !valid {
		raw = []byte(strings.ToValidUTF8(string(raw), `\ufffe`))
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if fields := timeFields(raw, reflect.TypeOf(dst)); len(fields) > 0 {
			return certdesk.Invalid(fields)
		}
		return JSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return certdesk.Errorf(certdesk.EINVALID, "the body has data after the JSON object")
	}
	if err := CheckText(dst); err != nil {
		return err
	}
	if !valid {
		return certdesk.Invalid(map[string]string{"body": "is not valid UTF-8 text"})
	}
	return nil
}

// JSONError says in the caller's words why a body could not be read.
func JSONError(err error) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
		unknown   = strings.HasPrefix(err.Error(), "json: unknown field ")
		fieldName = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
	)
	switch {
	case errors.As(err, &maxErr):
		return ErrTooLarge
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
