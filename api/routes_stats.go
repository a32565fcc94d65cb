package api

import "github.com/gin-gonic/gin"

// statsRoutes registers the supervisor dashboard's figures (/api/v1/stats).
func (s *API) statsRoutes(v1 *gin.RouterGroup) {}
