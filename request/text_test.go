package request

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/certdesk/certdesk"
)

func TestTextProblem(t *testing.T) {
	tests := []struct {
		s                   string
		singleLine, multiOK bool
	}{
		{"", true, true},
		{"Dara Murphy", true, true},
		{"Ünïcödé 名前 اسم \u202e \u200b \uFFFD", true, true},
		{"line\nline", false, true},
		{"a\r\nb\tc", false, true},
		{"\x00", false, false},
		{"a\x00", false, false},
		{"\x01", false, false},
		{"\x1b[2J", false, false},
		{"\x7f", false, false},
		{"\u0085", false, false},
		{"\u009f", false, false},
		{"\xff", false, false},
		{"\xff\xfe", false, false},
		{"caf\xe9", false, false},
		{"\xc0\xaf", false, false},
		{"\xed\xa0\x80", false, false}, // a surrogate in UTF-8
		{"\ufffe", false, false},
		{"\uffff", false, false},
		{"\x0b\x0c", false, false},
	}
	for _, tc := range tests {
		if got := certdesk.TextProblem(tc.s, false) == ""; got != tc.singleLine {
			t.Errorf("TextProblem(%q, single line) accepts = %v, want %v", tc.s, got, tc.singleLine)
		}
		if got := certdesk.TextProblem(tc.s, true) == ""; got != tc.multiOK {
			t.Errorf("TextProblem(%q, multi-line) accepts = %v, want %v", tc.s, got, tc.multiOK)
		}
	}
}

type inner struct {
	Code  string            `json:"code"`
	Notes []string          `json:"notes"`
	Meta  map[string]string `json:"meta"`
}

type sample struct {
	Name    string          `json:"name"`
	Kind    certdesk.Kind   `json:"kind"`
	Skipped string          `json:"-"`
	Plain   string          // no tag: its Go name
	Items   []inner         `json:"items"`
	Ptr     *string         `json:"ptr,omitempty"`
	Any     any             `json:"any"`
	Raw     json.RawMessage `json:"raw"`
	Bytes   []byte          `json:"bytes"`
	hidden  string
}

func TestCheckTextNamesEveryField(t *testing.T) {
	nul := "a\x00"
	v := sample{
		Name: "ok", Kind: "merge\x00", Skipped: "\x00", Plain: "\xff", Ptr: &nul, hidden: "\x00",
		Items: []inner{{Code: "ok"}, {Code: "\x1b", Notes: []string{"ok", "\x00"}, Meta: map[string]string{"k": "\x00", "\x00": "v"}}},
		Any:   map[string]any{"deep": []any{"ok", "\x00"}},
		Raw:   json.RawMessage(`{"x":"\u0000"}`),
		Bytes: []byte{0, 0xff},
	}
	err := CheckText(&v)
	want := []string{"kind", "Plain", "items[1].code", "items[1].notes[1]", "items[1].meta.k", "items[1].meta", "ptr", "any.deep[1]", "raw.x"}
	fields := certdesk.ErrorFields(err)
	if certdesk.ErrorCode(err) != certdesk.EINVALID || len(fields) != len(want) {
		t.Fatalf("CheckText = %v %v, want these fields: %v", err, fields, want)
	}
	for _, f := range want {
		if fields[f] == "" {
			t.Errorf("field %s not named: %v", f, fields)
		}
	}
	if err := CheckText(&sample{Name: "line\nline", Items: []inner{{Notes: []string{"\t"}}}}); err != nil {
		t.Errorf("clean value refused: %v", err)
	}
}

func TestCheckJSONText(t *testing.T) {
	for body, ok := range map[string]bool{
		`[{"event":"bounce","reason":"550"}]`:    true,
		`[{"event":"bounce","reason":"\u0000"}]`: false,
		"[{\"reason\":\"\xff\"}]":                false,
		`[{"a\u0000":"key"}]`:                    false,
		`not json`:                               true, // the parser refuses it
	} {
		if err := CheckJSONText([]byte(body)); (err == nil) != ok {
			t.Errorf("CheckJSONText(%q) = %v, want ok=%v", body, err, ok)
		}
	}
}

// FuzzInput holds the validation to its promise: what it accepts is valid
// UTF-8 without NUL or control characters (tab, CR and LF only in
// multi-line text), so PostgreSQL stores it; a JSON body it accepts holds
// only such strings, wherever they are.
func FuzzInput(f *testing.F) {
	for _, s := range []string{"", "Dara", "a\x00b", "\xff\xfe", "\u202e", "line\nline", "\x1b[1m", "\xed\xa0\x80", `{"note":"\u0000"}`, `["\ud800"]`, `{"a":{"b":["\u0085"]}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, multiline := range []bool{false, true} {
			if certdesk.TextProblem(s, multiline) != "" {
				continue
			}
			if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || strings.ContainsRune(s, 0xFFFE) {
				t.Fatalf("TextProblem(%q, %v) accepts what is not text", s, multiline)
			}
			for _, r := range s {
				if (r < 0x20 || r >= 0x7f && r <= 0x9f) && !(multiline && (r == '\t' || r == '\n' || r == '\r')) {
					t.Fatalf("TextProblem(%q, %v) accepts control %U", s, multiline, r)
				}
			}
		}
		if CheckJSONText([]byte(s)) == nil {
			var v any
			if json.Unmarshal([]byte(s), &v) == nil {
				everyString(reflect.ValueOf(v), func(str string) {
					if certdesk.TextProblem(str, true) != "" {
						t.Fatalf("CheckJSONText(%q) accepts the string %q", s, str)
					}
				})
			}
		}
		var dst struct {
			Note  string         `json:"note"`
			Items []string       `json:"items"`
			Data  map[string]any `json:"data"`
		}
		if json.Unmarshal([]byte(s), &dst) == nil && CheckText(&dst) == nil {
			everyString(reflect.ValueOf(dst), func(str string) {
				if certdesk.TextProblem(str, true) != "" {
					t.Fatalf("CheckText(%q) accepts the string %q", s, str)
				}
			})
		}
	})
}

// everyString calls f with every string in v, map keys too.
func everyString(v reflect.Value, f func(string)) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			everyString(v.Elem(), f)
		}
	case reflect.String:
		f(v.String())
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			everyString(v.Index(i), f)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			everyString(it.Key(), f)
			everyString(it.Value(), f)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			everyString(v.Field(i), f)
		}
	}
}
