package pages

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/store"
)

// The webhooks pages: supervisors see the subscribers and their health, an
// event's delivery log, and send an event again.

type webhooksView struct {
	Subscribers []store.Subscriber
	Events      []certdesk.DomainEvent
}

// webhooksPage is GET /console/webhooks.
func (s *Pages) webhooksPage(c *gin.Context) {
	subs, evs, err := s.desk.Subscribers(c.Request.Context(), request.Caller(c))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.html.Render(c, http.StatusOK, "console_webhooks", "Webhooks", webhooksView{Subscribers: subs, Events: evs})
}

type eventView struct {
	Event      certdesk.DomainEvent
	Data       string
	Deliveries []desk.SubscriberDelivery
	Notice     string
}

// eventPage is GET /console/webhooks/events/:id: the event and, per
// subscriber, every attempt.
func (s *Pages) eventPage(c *gin.Context) {
	e, ds, err := s.desk.EventDeliveries(c.Request.Context(), request.Caller(c), c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := eventView{Event: e, Deliveries: ds}
	var b bytes.Buffer
	if json.Indent(&b, e.Data, "", "  ") == nil {
		v.Data = b.String()
	}
	if c.Query("done") == "resent" {
		v.Notice = "Queued again: it goes out within a second, with the same webhook-id."
	}
	s.html.Render(c, http.StatusOK, "console_event", string(e.Type), v)
}

// resendEvent is POST /console/webhooks/events/:id/resend (subscriber in
// the form).
func (s *Pages) resendEvent(c *gin.Context) {
	id := c.Param("id")
	if err := s.desk.Resend(c.Request.Context(), request.Caller(c), c.PostForm("subscriber"), id); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/webhooks/events/"+id+"?done=resent")
}
