package pages

import (
	"context"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk/i18n"
)

// withLanguage is a learner's request's context carrying their language
// preference (the switcher's choice, their browser's), so that the case it
// opens writes to them in it.
func withLanguage(c *gin.Context) context.Context {
	stored, _ := c.Cookie(langCookie)
	return i18n.WithPreference(c.Request.Context(), i18n.Prefer(c.Query("lang"), stored, c.GetHeader("Accept-Language")))
}
