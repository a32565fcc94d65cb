package request

import (
	"reflect"
	"testing"
	"time"
)

// A time that is not RFC 3339 is named where it is, at any depth.
func TestTimeFieldsNameTheBadTime(t *testing.T) {
	type item struct {
		At    time.Time  `json:"earned_at"`
		Until *time.Time `json:"expires_at,omitempty"`
	}
	type body struct {
		Name  string     `json:"name"`
		When  *time.Time `json:"when"`
		Items []item     `json:"items"`
	}
	tests := []struct {
		raw  string
		want []string
	}{
		{`{"name":"x","when":"yesterday"}`, []string{"when"}},
		{`{"when":null,"items":[{"earned_at":"2024-05-01T09:00:00Z"},{"earned_at":"2024-05-01","expires_at":5}]}`, []string{"items[1].earned_at", "items[1].expires_at"}},
		{`{"when":"2024-05-01T09:00:00+02:00","items":[]}`, nil},
		{`not json`, nil},
	}
	for _, tc := range tests {
		got := timeFields([]byte(tc.raw), reflect.TypeFor[*body]())
		if len(got) != len(tc.want) {
			t.Errorf("%s: %v, want %v", tc.raw, got, tc.want)
		}
		for _, f := range tc.want {
			if got[f] == "" {
				t.Errorf("%s: %v does not name %s", tc.raw, got, f)
			}
		}
	}
}
