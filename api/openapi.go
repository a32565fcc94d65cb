package api

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiDoc describes every /api/v1 route: its shapes, errors and who may
// call it (x-certdesk-access). Tests hold it to the routes registered and
// to what each role gets.
//
//go:embed openapi.json
var openapiDoc []byte

// OpenAPI returns the document.
func OpenAPI() []byte { return openapiDoc }

func (s *API) openapi(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openapiDoc)
}
