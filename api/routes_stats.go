package api

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// statsRoutes registers the supervisor dashboard's figures (/api/v1/stats).
func (s *API) statsRoutes(v1 *gin.RouterGroup) {
	v1.GET("/stats", s.auth.Require(certdesk.RoleSupervisor), s.stats)
}
