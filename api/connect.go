package api

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

func (s *Server) requestConnect(c *gin.Context) {
	fail(c, certdesk.Errorf(certdesk.EUNAVAILABLE, "not implemented"))
}
