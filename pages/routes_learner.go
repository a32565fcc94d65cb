package pages

import (
	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
)

// learnerRoutes registers the routes of the learner's side: languages and plain words.
func (s *Pages) learnerRoutes(r *gin.Engine, page func(...certdesk.Role) gin.HandlerFunc) {}
