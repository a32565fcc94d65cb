package pages

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// privacyRoutes registers the supervisors' personal-data page: a person's
// copy, and erasure with four eyes (/console/privacy).
func (s *Pages) privacyRoutes(r *gin.Engine, page func(...certdesk.Role) gin.HandlerFunc) {
	r.GET("/console/privacy", page(certdesk.RoleSupervisor), s.privacyPage)
	r.POST("/console/privacy/erasures", page(certdesk.RoleSupervisor), s.requestErasure)
	r.POST("/console/privacy/erasures/:id/approve", page(certdesk.RoleSupervisor), s.approveErasure)
	r.POST("/console/privacy/erasures/:id/withdraw", page(certdesk.RoleSupervisor), s.withdrawErasure)
}
