package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/certdesk/certdesk"
)

// apiClient is how the scripted people use certdesk: its HTTP API, as a
// browser or a console would, retrying what a chaos run makes fail for a
// moment (a 5xx while the database is dropped, an update while no worker
// runs) and checking, before repeating a request that changes something,
// whether the first one took effect.
type apiClient struct {
	base string
	http *http.Client
	// poll is the time between two looks at a case or the mail.
	poll time.Duration
	// addr numbers the client addresses (X-Forwarded-For) of the requests.
	addr atomic.Int64
	// transients counts the answers that were a 5xx or none at all.
	transients atomic.Int64
}

// errStatus is an answer the caller did not expect.
type errStatus struct {
	Method, Path string
	Code         int
	Body         string
}

func (e *errStatus) Error() string {
	return fmt.Sprintf("%s %s = %d %s", e.Method, e.Path, e.Code, strings.TrimSpace(e.Body))
}

// transient reports whether a request may be tried again: no answer, or a
// 5xx.
func transient(code int, err error) bool { return err != nil || code >= 500 }

// do sends one request: a url.Values body is a form, anything else JSON.
// out, when set, receives a 2xx JSON answer.
func (c *apiClient) do(ctx context.Context, method, path, token string, body any, hdr map[string]string, out any) (int, []byte, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	// The scripted people are many clients: each request comes from an
	// address of its own unless the caller names one, so the per-client
	// rate limits (sign-in, links, the recovery form) see them apart.
	req.Header.Set("X-Forwarded-For", c.nextAddr())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.transients.Add(1)
		return 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		c.transients.Add(1)
	}
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, data, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, data, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, data, nil
}

// pause waits a poll interval (with jitter), or returns the context's error.
func (c *apiClient) pause(ctx context.Context) error {
	d := c.poll/2 + rand.N(c.poll)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// retry sends a request until it gets an answer that is not transient.
// Only for requests that are safe to repeat as they are.
func (c *apiClient) retry(ctx context.Context, method, path, token string, body any, hdr map[string]string, out any) (int, []byte, error) {
	for {
		code, data, err := c.do(ctx, method, path, token, body, hdr, out)
		if !transient(code, err) {
			return code, data, nil
		}
		if perr := c.pause(ctx); perr != nil {
			return code, data, fmt.Errorf("%s %s: gave up (%d %v): %w", method, path, code, err, perr)
		}
	}
}

// expect sends a request safe to repeat and wants one of the codes.
func (c *apiClient) expect(ctx context.Context, method, path, token string, body any, out any, codes ...int) (int, error) {
	code, data, err := c.retry(ctx, method, path, token, body, nil, out)
	if err != nil {
		return code, err
	}
	for _, want := range codes {
		if code == want {
			return code, nil
		}
	}
	return code, &errStatus{method, path, code, string(data)}
}

// login signs in through dev mode's sign-in and returns the bearer token.
func (c *apiClient) login(ctx context.Context, email string) (string, error) {
	var out struct{ Token string }
	_, err := c.expect(ctx, "POST", "/dev/login", "", map[string]string{"email": email}, &out, http.StatusOK)
	return out.Token, err
}

// caseView is what the scripts read of a case.
type caseView struct {
	ID         string          `json:"id"`
	Kind       certdesk.Kind   `json:"kind"`
	Status     certdesk.Status `json:"status"`
	Resolution string          `json:"resolution"`
	Version    int64           `json:"version"`
	ParentID   string          `json:"parent_case_id"`
	Details    struct {
		MergeCaseID string `json:"merge_case_id"`
	} `json:"details"`
}

// awaitCase polls a case until ok says so. A case not there yet (404: its
// projection is written right after its workflow starts) is waited for.
func (c *apiClient) awaitCase(ctx context.Context, token, id, what string, ok func(caseView) bool) (caseView, error) {
	var cv caseView
	for {
		code, data, err := c.do(ctx, "GET", "/api/v1/cases/"+id, token, nil, nil, &cv)
		switch {
		case err == nil && code == http.StatusOK && ok(cv):
			return cv, nil
		case err == nil && code/100 == 4 && code != http.StatusNotFound:
			return cv, &errStatus{"GET", "/api/v1/cases/" + id, code, string(data)}
		}
		if perr := c.pause(ctx); perr != nil {
			return cv, fmt.Errorf("case %s: waited for %s (status %s): %w", id, what, cv.Status, perr)
		}
	}
}

// awaitStatus waits for a case to reach a status.
func (c *apiClient) awaitStatus(ctx context.Context, token, id string, want certdesk.Status) (caseView, error) {
	return c.awaitCase(ctx, token, id, string(want), func(cv caseView) bool {
		return cv.Status == want || cv.Status.Terminal() && !want.Terminal()
	})
}

// awaitEnd waits for a case to reach a terminal status.
func (c *apiClient) awaitEnd(ctx context.Context, token, id string) (caseView, error) {
	return c.awaitCase(ctx, token, id, "its end", func(cv caseView) bool { return cv.Status.Terminal() })
}

// events lists a case's timeline as its event types.
func (c *apiClient) events(ctx context.Context, token, id string) ([]string, error) {
	var out struct{ Items []certdesk.CaseEvent }
	if _, err := c.expect(ctx, "GET", "/api/v1/cases/"+id+"/events", token, nil, &out, http.StatusOK); err != nil {
		return nil, err
	}
	types := make([]string, len(out.Items))
	for i, e := range out.Items {
		types[i] = string(e.Type)
	}
	return types, nil
}

// awaitTimeline polls a case's timeline until ok says so.
func (c *apiClient) awaitTimeline(ctx context.Context, token, id, what string, ok func([]string) bool) error {
	for {
		types, err := c.events(ctx, token, id)
		if err == nil && ok(types) {
			return nil
		}
		if err != nil && ctx.Err() != nil {
			return err
		}
		if perr := c.pause(ctx); perr != nil {
			return fmt.Errorf("case %s: waited for %s (timeline %v): %w", id, what, types, perr)
		}
	}
}

func count(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

// decide posts an agent's decision. A decision whose answer was lost (the
// update outlived the API's wait while no worker ran) may have been taken
// anyway: before sending it again, the timeline says whether it was.
func (c *apiClient) decide(ctx context.Context, token, id string, body map[string]string) error {
	before, err := c.events(ctx, token, id)
	if err != nil {
		return err
	}
	path := "/api/v1/cases/" + id + "/decision"
	var last string
	for {
		code, data, err := c.do(ctx, "POST", path, token, body, nil, nil)
		switch {
		case err == nil && code == http.StatusOK:
			return nil
		case err == nil && code == http.StatusBadRequest:
			return &errStatus{"POST", path, code, string(data)}
		}
		last = fmt.Sprintf("%d %v %s", code, err, data)
		if now, err := c.events(ctx, token, id); err == nil && count(now, "decided") > count(before, "decided") {
			return nil
		}
		// 409: not awaiting a decision yet (or any more), or the earlier
		// attempt is pending in the workflow; the timeline will tell.
		if perr := c.pause(ctx); perr != nil {
			return fmt.Errorf("decision %v on case %s: gave up (last answer %s): %w", body, id, last, perr)
		}
	}
}

// click uses an email's link as a browser does: its page, then its button.
// A link whose earlier use got no clear answer may have been used: then
// 410 means it was.
func (c *apiClient) click(ctx context.Context, link string, form url.Values) error {
	u, err := url.Parse(link)
	if err != nil {
		return err
	}
	if _, err := c.expect(ctx, "GET", u.Path, "", nil, nil, http.StatusOK); err != nil {
		return err
	}
	if form == nil {
		form = url.Values{}
	}
	unclear := false
	for {
		code, data, err := c.do(ctx, "POST", u.Path, "", form, nil, nil)
		switch {
		case err == nil && code == http.StatusOK:
			return nil
		case err == nil && code == http.StatusGone && unclear:
			return nil
		case !transient(code, err):
			return &errStatus{"POST", "/l/…", code, string(data)}
		}
		unclear = true
		if perr := c.pause(ctx); perr != nil {
			return fmt.Errorf("link: gave up: %w", perr)
		}
	}
}

// nextAddr is a client address of its own for a public request.
func (c *apiClient) nextAddr() string {
	n := c.addr.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}
