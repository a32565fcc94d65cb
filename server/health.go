package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// healthz says the process is alive; it checks nothing else.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz says whether this process can serve: the database and Temporal
// both answer. Otherwise 503 with what is down.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	checks := gin.H{"database": "ok", "temporal": "ok"}
	var down []string
	if err := s.store.Ping(ctx); err != nil {
		checks["database"] = "unreachable"
		down = append(down, "database")
	}
	if s.temporal == nil {
		checks["temporal"] = "not configured"
		down = append(down, "temporal")
	} else if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unreachable"
		down = append(down, "temporal")
	}
	if len(down) > 0 {
		c.JSON(certdesk.ToStatus(certdesk.EUNAVAILABLE), gin.H{
			"status": "unavailable", "checks": checks,
			"error": respond.ErrorDetail{Code: certdesk.EUNAVAILABLE, Message: "not ready: " + strings.Join(down, " and ") + " unreachable", RequestID: request.ID(c)},
		})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "checks": checks})
}
