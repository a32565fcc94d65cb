package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// httpClient is how the bench uses certdesk: its HTTP API, as a console or
// a browser would. Every request says an address of its own
// (X-Forwarded-For, trusted by the embedded stack) so the per-client limits
// see many clients, as in life.
type httpClient struct {
	base  string
	token string // the default bearer token
	http  *http.Client
	addr  atomic.Int64
}

func newHTTPClient(base, token string) *httpClient {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	return &httpClient{base: strings.TrimRight(base, "/"), token: token, http: &http.Client{Timeout: 30 * time.Second, Transport: tr}}
}

// statusError is an answer the bench did not expect.
type statusError struct {
	method, path string
	code         int
	body         string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s = %d %s", e.method, e.path, e.code, strings.TrimSpace(e.body))
}

// do sends a request (a url.Values body as a form, anything else as JSON)
// and wants the code; out, when set, receives the JSON answer (a *[]byte:
// the answer as it is).
func (c *httpClient) do(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token == "" {
		token = c.token
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	n := c.addr.Add(1)
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return &statusError{method, path, resp.StatusCode, string(data)}
	}
	switch out := out.(type) {
	case nil:
		return nil
	case *[]byte:
		*out = data
		return nil
	default:
		return json.Unmarshal(data, out)
	}
}

// login signs in through dev mode's sign-in and returns the bearer token.
func (c *httpClient) login(ctx context.Context, email string) (string, error) {
	var out struct{ Token string }
	err := c.do(ctx, "POST", "/dev/login", "", map[string]string{"email": email}, http.StatusOK, &out)
	return out.Token, err
}

// caseView is what the bench reads of a case.
type caseView struct {
	ID      string `json:"id"`
	Status  string `json:"status"`
	Version int64  `json:"version"`
}
