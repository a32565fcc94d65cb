package pages

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// deskRoutes registers the routes of the agent's desk beyond the case page: profile lookup, bulk actions, notifications.
func (s *Pages) deskRoutes(r *gin.Engine, page func(...certdesk.Role) gin.HandlerFunc) {
	staff := []certdesk.Role{certdesk.RoleAgent, certdesk.RoleSupervisor}
	r.GET("/console/profiles", page(staff...), s.profilesPage)
	r.GET("/console/profiles/:id", page(staff...), s.profilePage)
	r.POST("/console/bulk", page(staff...), s.bulk)
	r.POST("/console/notifications/seen", page(staff...), s.seenAssigned)
	r.GET("/console/notices", page(staff...), s.noticeSettings)
	r.POST("/console/notices", page(staff...), s.saveNoticeSettings)
	r.GET("/console/cases/:id/viewers", page(staff...), s.caseViewers)
}
