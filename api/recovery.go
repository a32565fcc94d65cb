package api

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

func (s *Server) requestRecovery(c *gin.Context) {
	fail(c, certdesk.Errorf(certdesk.EUNAVAILABLE, "not implemented"))
}

func (s *Server) recordSignIn(c *gin.Context) {
	fail(c, certdesk.Errorf(certdesk.EUNAVAILABLE, "not implemented"))
}
