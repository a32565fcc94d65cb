package request

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

	"github.com/certdesk/certdesk"
)

// Every string that crosses the boundary is text: valid UTF-8 without NUL
// or other control characters (tab, CR and LF only inside bodies, where a
// note may run over several lines). PostgreSQL refuses NUL and invalid
// UTF-8, and a value refused there after the API answered 202 fails a
// case's workflow; so they are refused here, before anything runs, with
// the field named. The server's input check covers the path, the query and
// forms (CheckValues, ParseForm); DecodeJSON covers JSON bodies through
// CheckText, and the SendGrid webhook its body through CheckJSONText.

// CheckValues checks the names and values of a query or a form.
func CheckValues(vs url.Values, multiline bool, fields map[string]string) {
	for k, list := range vs {
		if msg := certdesk.TextProblem(k, false); msg != "" {
			fields[strconv.QuoteToASCII(k)] = "is not a field name: it " + msg
			continue
		}
		for _, v := range list {
			if msg := certdesk.TextProblem(v, multiline); msg != "" {
				fields[k] = msg
			}
		}
	}
}

var ErrTooLarge = certdesk.Errorf(certdesk.ETOOLARGE, "the body is larger than %d bytes", MaxBody)

// ParseForm reads a form body (URL-encoded or multipart) within the body
// limit; other bodies are left to their handlers.
func ParseForm(r *http.Request) error {
	if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead {
		return nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var err error
	switch ct {
	case "application/x-www-form-urlencoded":
		err = r.ParseForm()
	case "multipart/form-data":
		// Files may be larger (the body's limit says how much); the text
		// fields together stay within MaxBody, as a form's do.
		if err = r.ParseMultipartForm(MaxBody); err == nil && textSize(r.MultipartForm.Value) > MaxBody {
			return ErrTooLarge
		}
	default:
		return nil
	}
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr), err != nil && strings.Contains(err.Error(), "request body too large"):
		return ErrTooLarge
	case err != nil:
		return certdesk.Errorf(certdesk.EINVALID, "the form could not be read")
	}
	return nil
}

func textSize(values map[string][]string) int {
	n := 0
	for k, vs := range values {
		for _, v := range vs {
			n += len(k) + len(v)
		}
	}
	return n
}

// CheckText walks a decoded request (struct fields by their JSON names,
// slices, maps, pointers, interfaces, raw JSON) and refuses every string
// that is not text, naming where it is ("profile_ids[1]", "data.key").
func CheckText(v any) error {
	fields := map[string]string{}
	walkText(reflect.ValueOf(v), "", fields)
	if len(fields) > 0 {
		return certdesk.Invalid(fields)
	}
	return nil
}

// CheckJSONText checks a raw JSON body that is read as it is (the
// webhook's, whose signature covers its bytes).
func CheckJSONText(raw []byte) error {
	if !utf8.Valid(raw) {
		return certdesk.Invalid(map[string]string{"body": "is not valid UTF-8 text"})
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil // not JSON: its parser says so
	}
	return CheckText(v)
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
		if msg := certdesk.TextProblem(v.String(), true); msg != "" {
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
			if msg := certdesk.TextProblem(key, false); msg != "" {
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
