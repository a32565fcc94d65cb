package request

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// encoding/json refuses a time that is not RFC 3339 without saying where
// it was; timeFields finds it, so the answer names the field
// ("certifications[0].earned_at") like every other bad input.

var timeType = reflect.TypeFor[time.Time]()

// timeFields names the fields of a JSON body, read as the type t, whose
// value is not an RFC 3339 time where t has a time.
func timeFields(raw []byte, t reflect.Type) map[string]string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	fields := map[string]string{}
	walkTimes(v, t, "", fields)
	return fields
}

func walkTimes(v any, t reflect.Type, name string, fields map[string]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return // null leaves a time as it is
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == timeType {
			if s, ok := v.(string); !ok || !validTime(s) {
				fields[name] = "must be an RFC 3339 time, such as 2024-05-01T09:00:00Z"
			}
			return
		}
		obj, _ := v.(map[string]any)
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if tag == "" {
				tag = f.Name
			}
			if val, ok := obj[tag]; ok && f.IsExported() && tag != "-" {
				walkTimes(val, f.Type, joinField(name, tag), fields)
			}
		}
	case reflect.Slice, reflect.Array:
		list, _ := v.([]any)
		for i, e := range list {
			walkTimes(e, t.Elem(), name+"["+strconv.Itoa(i)+"]", fields)
		}
	case reflect.Map:
		obj, _ := v.(map[string]any)
		for k, e := range obj {
			walkTimes(e, t.Elem(), joinField(name, k), fields)
		}
	}
}

func validTime(s string) bool {
	var t time.Time
	return t.UnmarshalJSON([]byte(strconv.Quote(s))) == nil
}
