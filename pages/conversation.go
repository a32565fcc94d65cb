package pages

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/i18n"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// A case's conversation on the pages: the console shows all of it (held
// messages marked, attachments as staff downloads) with the public reply
// and its canned responses; the portal shows the learner their case's
// messages and takes theirs, with files. Supervisors keep the canned
// responses on /console/canned.

// conversationView is what the "conversation" partial shows.
type conversationView struct {
	Messages []messageRow
	// Staff shows held messages and links the attachments; a learner sees
	// their files' names only.
	Staff bool
}

type messageRow struct {
	store.Message
	Who   string
	Out   bool
	Files []fileRow
}

type fileRow struct {
	store.AttachmentInfo
	Size string
	// Href is the staff download (empty for learners and once purged).
	Href string
}

// conversation reads a case's messages as p may see them.
func (s *Pages) conversation(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, agents map[string]string) (conversationView, error) {
	msgs, err := s.desk.Messages(ctx, p, cs)
	if err != nil {
		return conversationView{}, err
	}
	v := conversationView{Staff: p.Role.Staff()}
	for _, m := range msgs {
		r := messageRow{Message: m, Out: m.Direction == store.MessageOut}
		switch {
		case !v.Staff && r.Out:
			r.Who = "Certdesk support"
		case !v.Staff:
			r.Who = "You"
		default:
			r.Who = s.actorName(ctx, m.Author, agents)
		}
		for _, a := range m.Attachments {
			f := fileRow{AttachmentInfo: a, Size: sizeText(a.Size)}
			if v.Staff && a.PurgedAt == nil {
				f.Href = "/api/v1/attachments/" + a.ID
			}
			r.Files = append(r.Files, f)
		}
		v.Messages = append(v.Messages, r)
	}
	return v, nil
}

// formText is a multi-line field as written: a browser sends a textarea's
// lines with CRLF; messages and canned responses keep LF.
func formText(c *gin.Context, name string) string {
	return strings.ReplaceAll(c.PostForm(name), "\r\n", "\n")
}

// sizeText says a file's size the way people read it.
func sizeText(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// cannedOption is a canned response filled in for the case at hand; Key
// is its keystroke's number (Ctrl+Shift+Key), for the first nine.
type cannedOption struct {
	ID, Name, Text string
	Key            int
}

// cannedKey is the keystroke's number of the i-th canned response (by
// name): the first nine have one.
func cannedKey(i int) int {
	if i < 9 {
		return i + 1
	}
	return 0
}

// cannedFor fills the canned responses for cs.
func (s *Pages) cannedFor(ctx context.Context, p *certdesk.Principal, cs certdesk.Case) ([]cannedOption, error) {
	list, err := s.desk.CannedResponses(ctx, p)
	if err != nil {
		return nil, err
	}
	values := certdesk.CannedValues(cs)
	out := make([]cannedOption, len(list))
	for i, c := range list {
		out[i] = cannedOption{ID: c.ID, Name: c.Name, Text: certdesk.FillCanned(c.Body, values), Key: cannedKey(i)}
	}
	return out, nil
}

// insertCanned is the reply form's "Insert" without JavaScript: the chosen
// canned response is added to what the agent typed, and nothing is sent.
func (s *Pages) insertCanned(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, typed desk.ReplyRequest, id string) (desk.ReplyRequest, error) {
	options, err := s.cannedFor(ctx, p, cs)
	if err != nil {
		return typed, err
	}
	for _, o := range options {
		if o.ID == id {
			if typed.Body = strings.TrimRight(typed.Body, "\n"); typed.Body != "" {
				typed.Body += "\n\n"
			}
			typed.Body += o.Text
			typed.CannedID = o.ID
			return typed, nil
		}
	}
	return typed, certdesk.Invalid(map[string]string{"canned response": "choose one from the list"})
}

// Canned responses, for supervisors: GET /console/canned and its forms.

type cannedView struct {
	Items        []cannedRow
	New          desk.CannedRequest
	NewError     string
	Notice       string
	Placeholders []string
	MaxText      int
}

type cannedRow struct {
	store.CannedResponse
	Who   string
	Key   int // its keystroke's number on the case page (0: none)
	Error string
}

func (s *Pages) cannedPage(c *gin.Context) {
	s.renderCanned(c, http.StatusOK, cannedNotice(c.Query("done")), "", desk.CannedRequest{}, nil)
}

// renderCanned renders the page; refusal, when set, is shown on the form
// of failedID ("" the new one) with what was typed.
func (s *Pages) renderCanned(c *gin.Context, code int, notice, failedID string, typed desk.CannedRequest, refusal error) {
	ctx := c.Request.Context()
	p := request.Caller(c)
	list, err := s.desk.CannedResponses(ctx, p)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	_, names, err := s.agentNames(ctx)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := cannedView{Notice: notice, MaxText: certdesk.MaxNote}
	for _, name := range certdesk.CannedPlaceholders {
		v.Placeholders = append(v.Placeholders, "{{"+name+"}}")
	}
	for i, cr := range list {
		row := cannedRow{CannedResponse: cr, Who: s.actorName(ctx, cr.UpdatedBy, names), Key: cannedKey(i)}
		if refusal != nil && cr.ID == failedID {
			row.Name, row.Body, row.Error = typed.Name, typed.Body, refusalText(refusal)
		}
		v.Items = append(v.Items, row)
	}
	if refusal != nil && failedID == "" {
		v.New, v.NewError = typed, refusalText(refusal)
	}
	s.html.Render(c, code, "console_canned", "Canned responses", v)
}

// saveCanned is POST /console/canned (a new one) and /console/canned/:id.
func (s *Pages) saveCanned(c *gin.Context) {
	req := desk.CannedRequest{Name: c.PostForm("name"), Body: formText(c, "body")}
	if _, err := s.desk.SaveCanned(c.Request.Context(), request.Caller(c), c.Param("id"), req); err != nil {
		if certdesk.ErrorCode(err) == certdesk.EFORBIDDEN || certdesk.ErrorCode(err) == certdesk.ENOTFOUND {
			s.html.Error(c, err)
			return
		}
		s.renderCanned(c, respond.Status(err), "", c.Param("id"), req, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/canned?done=saved")
}

// deleteCanned is POST /console/canned/:id/delete.
func (s *Pages) deleteCanned(c *gin.Context) {
	if err := s.desk.DeleteCanned(c.Request.Context(), request.Caller(c), c.Param("id")); err != nil {
		s.html.Error(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/canned?done=deleted")
}

func cannedNotice(done string) string {
	switch done {
	case "saved":
		return "Canned response saved."
	case "deleted":
		return "Canned response deleted."
	}
	return ""
}

// The learner's case in the portal: GET /portal/cases/:id and its message
// form.

type portalCaseView struct {
	L            i18n.Locale
	Langs        []langChoice
	Case         portalCase
	Conversation conversationView
	// Open: the case takes the learner's messages.
	Open   bool
	Form   desk.MessageRequest
	Limits uploadLimits
	Notice string
	Error  string
	// Base is the page's path: /portal/cases/{id}, or with the case's token
	// for a learner who came by the link in their email.
	Base string
	// ByLink: the viewer came by that link (not signed in).
	ByLink bool
}

// uploadLimits are what the message form says it accepts.
type uploadLimits struct {
	Accept    string // the file input's accept attribute
	Types     string // in words
	MaxFiles  int
	MaxSizeMB int
	MaxText   int
}

var portalUploads = func() uploadLimits {
	var words []string
	for _, t := range desk.AcceptedAttachmentTypes {
		_, sub, _ := strings.Cut(t, "/")
		words = append(words, strings.ToUpper(sub))
	}
	return uploadLimits{Accept: strings.Join(desk.AcceptedAttachmentTypes, ","), Types: strings.Join(words, ", "),
		MaxFiles: desk.MaxAttachments, MaxSizeMB: desk.MaxAttachmentSize >> 20, MaxText: desk.MaxMessage}
}()

// portalCasePage is GET /portal/cases/:id: only the learner whose case it
// is sees it (the API's rule, desk.VisibleCase); staff go to the console.
func (s *Pages) portalCasePage(c *gin.Context) {
	s.renderPortalCase(c, http.StatusOK, c.Query("done"), desk.MessageRequest{}, nil)
}

// portalViewer is who looks at a portal case page: a signed-in learner
// whose case it is, or whoever holds the case's link from the learner's
// emails (/portal/cases/:id/t/:token; a recovering learner cannot sign in).
type portalViewer struct {
	p      *certdesk.Principal // anonymous (no role) for the link
	base   string
	byLink bool
}

// portalCase finds the case the page is about for its viewer, or answers
// (a redirect for staff, a 404 for anyone else) and says false.
func (s *Pages) portalCase(c *gin.Context) (certdesk.Case, portalViewer, bool) {
	ctx, id := c.Request.Context(), c.Param("id")
	if token := c.Param("token"); token != "" {
		cs, err := s.desk.CaseByToken(ctx, id, token)
		if err != nil {
			s.learnerError(c, s.learnerLocale(c), err)
			return cs, portalViewer{}, false
		}
		return cs, portalViewer{p: &certdesk.Principal{}, base: "/portal/cases/" + cs.ID + "/t/" + token, byLink: true}, true
	}
	p := request.Caller(c)
	if p.Role.Staff() {
		c.Redirect(http.StatusSeeOther, "/console/cases/"+id)
		return certdesk.Case{}, portalViewer{}, false
	}
	cs, err := s.desk.VisibleCase(ctx, p, id)
	if err != nil {
		s.learnerError(c, s.learnerLocale(c), err)
		return cs, portalViewer{}, false
	}
	return cs, portalViewer{p: p, base: "/portal/cases/" + cs.ID}, true
}

func (s *Pages) renderPortalCase(c *gin.Context, code int, done string, form desk.MessageRequest, refusal error) {
	cs, who, ok := s.portalCase(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	l := s.learnerLocale(c)
	conv, err := s.conversation(ctx, who.p, cs, nil)
	if err != nil {
		s.learnerError(c, l, err)
		return
	}
	v := portalCaseView{L: l, Langs: langChoices(c, l), Case: portalCaseOf(cs, l), Conversation: conv, Open: !cs.Status.Terminal(), Form: form,
		Limits: portalUploads, Notice: l.T(noticeOfPortal(done, false)), Base: who.base, ByLink: who.byLink}
	if refusal != nil {
		v.Error = l.T(refusalText(refusal))
	}
	s.html.Render(c, code, "portal_case", v.Case.Title, v)
}

// portalMessage is POST /portal/cases/:id/messages: the learner writes on
// their open case, with files.
func (s *Pages) portalMessage(c *gin.Context) {
	ctx := c.Request.Context()
	form := desk.MessageRequest{Body: formText(c, "body")}
	cs, who, ok := s.portalCase(c)
	if !ok {
		return
	}
	var err error
	var files []store.NewAttachment
	if c.Request.MultipartForm != nil {
		files, err = desk.ReadUploads(c.Request.MultipartForm.File["files"])
	}
	switch {
	case err != nil:
	case who.byLink:
		_, err = s.desk.ContactMessage(ctx, cs, form, files)
	default:
		_, err = s.desk.LearnerMessage(ctx, who.p, cs, form, files)
	}
	if err != nil {
		respond.LogIfInternal(c, err)
		s.renderPortalCase(c, respond.Status(err), "", form, err)
		return
	}
	c.Redirect(http.StatusSeeOther, who.base+"?done=message")
}
