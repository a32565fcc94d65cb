package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk/respond"
)

// stats is GET /api/v1/stats: the supervisor dashboard's figures.
func (s *API) stats(c *gin.Context) {
	st, err := s.store.Stats(c.Request.Context())
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}
