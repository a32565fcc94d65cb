package pages

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// dashboardRoutes registers the routes of the supervisor's dashboard (/console/dashboard).
func (s *Pages) dashboardRoutes(r *gin.Engine, page func(...certdesk.Role) gin.HandlerFunc) {
	r.GET("/console/dashboard", page(certdesk.RoleSupervisor), s.dashboardPage)
	r.GET("/console/dashboard.csv", page(certdesk.RoleSupervisor), s.dashboardCSV)
}
