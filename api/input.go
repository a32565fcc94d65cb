package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// Every string that crosses the boundary is text: valid UTF-8 without NUL
// or other control characters (tab, CR and LF only inside bodies, where a
// note may run over several lines). PostgreSQL refuses NUL and invalid
// UTF-8, and a value refused there after the API answered 202 fails a
// case's workflow; so they are refused here, before anything runs, with
// the field named. checkInput covers the path, the query and forms;
// decodeJSON (errors.go) covers JSON bodies through checkText, and the
// SendGrid webhook its body through checkJSONText.

// textProblem says what is wrong with s as text, or "" when nothing is.
// multiline allows tab, CR and LF.
func textProblem(s string, multiline bool) string {
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"), r == 0xFFFE, r == 0xFFFF:
			// U+FFFE stands for invalid bytes (see decodeJSON).
			return "is not valid UTF-8 text"
		case r == 0:
			return "contains a NUL character, which is not text"
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20, r >= 0x7f && r <= 0x9f:
			return fmt.Sprintf("contains the control character %U, which is not text here", r)
		}
	}
	return ""
}

// checkInput refuses a request whose path, path parameters, query or form
// values are not text (400, the fields named), and a body over the limit
// (413). Forms are parsed here, so a handler never meets an unreadable one.
func (s *Server) checkInput(c *gin.Context) {
	if c.Request.ContentLength > maxBody {
		s.refuse(c, errTooLarge)
		return
	}
	fields := map[string]string{}
	if msg := textProblem(c.Request.URL.Path, false); msg != "" {
		fields["path"] = msg
	}
	for _, p := range c.Params {
		if msg := textProblem(p.Value, false); msg != "" {
			fields[p.Key] = msg
		}
	}
	query, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		fields["query"] = "is not a valid query string (a % must start an escape such as %20)"
	}
	checkValues(query, false, fields)
	if err := parseForm(c.Request); err != nil {
		s.refuse(c, err)
		return
	}
	checkValues(c.Request.PostForm, true, fields)
	if len(fields) > 0 {
		s.refuse(c, certdesk.Invalid(fields))
		return
	}
	c.Next()
}

// checkValues checks the names and values of a query or a form.
func checkValues(vs url.Values, multiline bool, fields map[string]string) {
	for k, list := range vs {
		if msg := textProblem(k, false); msg != "" {
			fields[strconv.QuoteToASCII(k)] = "is not a field name: it " + msg
			continue
		}
		for _, v := range list {
			if msg := textProblem(v, multiline); msg != "" {
				fields[k] = msg
			}
		}
	}
}

var errTooLarge = certdesk.Errorf(certdesk.ETOOLARGE, "the body is larger than %d bytes", maxBody)

// parseForm reads a form body (URL-encoded or multipart) within the body
// limit; other bodies are left to their handlers.
func parseForm(r *http.Request) error {
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		err = r.ParseMultipartForm(maxBody)
	default:
		return nil
	}
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr), err != nil && strings.Contains(err.Error(), "request body too large"):
		return errTooLarge
	case err != nil:
		return certdesk.Errorf(certdesk.EINVALID, "the form could not be read")
	}
	return nil
}

// checkText walks a decoded request (struct fields by their JSON names,
// slices, maps, pointers, interfaces, raw JSON) and refuses every string
// that is not text, naming where it is ("profile_ids[1]", "data.key").
func checkText(v any) error {
	fields := map[string]string{}
	walkText(reflect.ValueOf(v), "", fields)
	if len(fields) > 0 {
		return certdesk.Invalid(fields)
	}
	return nil
}

// checkJSONText checks a raw JSON body that is read as it is (the
// webhook's, whose signature covers its bytes).
func checkJSONText(raw []byte) error {
	if !utf8.Valid(raw) {
		return certdesk.Invalid(map[string]string{"body": "is not valid UTF-8 text"})
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil // not JSON: its parser says so
	}
	return checkText(v)
}

var rawJSONType = reflect.TypeFor[json.RawMessage]()

func walkText(v reflect.Value, name string, fields map[string]string) {
	field := name
	if field == "" {
		field = "body"
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkText(v.Elem(), name, fields)
		}
	case reflect.String:
		if msg := textProblem(v.String(), true); msg != "" {
			fields[field] = msg
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case !f.IsExported() || tag == "-":
				continue
			case f.Anonymous && tag == "":
				walkText(v.Field(i), name, fields) // embedded: its fields are the parent's
				continue
			case tag == "":
				tag = f.Name
			}
			walkText(v.Field(i), joinField(name, tag), fields)
		}
	case reflect.Slice, reflect.Array:
		if v.Type() == rawJSONType {
			var inner any
			if json.Unmarshal(v.Bytes(), &inner) == nil {
				walkText(reflect.ValueOf(inner), name, fields)
			}
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // bytes (base64 in JSON), not text
		}
		for i := range v.Len() {
			walkText(v.Index(i), field+"["+strconv.Itoa(i)+"]", fields)
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			key := fmt.Sprint(it.Key().Interface())
			if msg := textProblem(key, false); msg != "" {
				fields[field] = "has a key that " + msg
				continue
			}
			walkText(it.Value(), joinField(name, key), fields)
		}
	}
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
