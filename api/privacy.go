package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// personalData: GET /api/v1/me/personal-data (a learner's own copy) and
// GET /api/v1/personal-data?email= (a supervisor, for a request that came
// by another way): everything certdesk holds about the person, as a JSON
// download. Each copy is audited.
func (s *API) personalData(c *gin.Context) {
	data, err := s.desk.PersonalData(c.Request.Context(), request.Caller(c), c.Query("email"))
	if err != nil {
		respond.Fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="certdesk-personal-data.json"`)
	c.JSON(http.StatusOK, data)
}
