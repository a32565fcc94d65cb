package web_test

import (
	"net/http/httptest"
	"testing"

	"github.com/certdesk/certdesk/web"
)

// Every view parses with the layout and the partials, and renders with an
// empty page without failing (a missing template is found here, not by a
// user).
func TestEveryViewRenders(t *testing.T) {
	p := web.MustParse()
	for _, v := range p.Views() {
		rec := httptest.NewRecorder()
		p.Render(rec, 200, v, web.Page{Title: v})
		if rec.Code != 200 {
			t.Errorf("view %s: %d %s", v, rec.Code, rec.Body)
		}
	}
}
