package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// CheckURL refuses a subscriber URL certdesk must not post to: not https
// (plain http only when loopback is allowed, in dev), with credentials, or
// naming a loopback, link-local, unspecified or multicast address (a name
// that resolves to one is refused when the sender dials it).
func CheckURL(raw string, allowLoopback bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowLoopback:
	default:
		return fmt.Errorf("a subscriber URL must be https (%q)", raw)
	}
	if u.User != nil {
		return errors.New("a subscriber URL must not carry credentials")
	}
	if u.Fragment != "" {
		return errors.New("a subscriber URL has no #fragment")
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".") // "localhost." is localhost
	if allowLoopback {
		return nil
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return fmt.Errorf("%s is this machine: a subscriber must be another system", host)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return checkAddr(ip)
	}
	return nil
}

// awsMetadataV6 is AWS's metadata service over IPv6 (a unique-local
// address, not link-local).
var awsMetadataV6 = netip.MustParseAddr("fd00:ec2::254")

// checkAddr refuses the addresses a request from certdesk must never reach.
func checkAddr(ip netip.Addr) error {
	ip = ip.Unmap()
	switch {
	case ip.IsLoopback(), ip.IsUnspecified(), ip.Is4() && ip.As4()[0] == 0: // 0.0.0.0/8 is "this network"
		return fmt.Errorf("%s is this machine: a subscriber must be another system", ip)
	case ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return fmt.Errorf("%s is a link-local or multicast address (the cloud's metadata service lives there)", ip)
	case ip == awsMetadataV6:
		return fmt.Errorf("%s is the cloud's metadata service", ip)
	}
	return nil
}

// Sender posts deliveries.
type Sender struct {
	client *http.Client
}

// NewSender makes a sender whose requests time out after timeout, never
// follow a redirect, and (unless allowLoopback) never connect to an
// address CheckURL refuses, whatever a name resolves to when dialled.
func NewSender(timeout time.Duration, allowLoopback bool) *Sender {
	d := &net.Dialer{Timeout: timeout}
	if !allowLoopback {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return err
			}
			return checkAddr(ap.Addr())
		}
	}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		TLSHandshakeTimeout: timeout,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	return &Sender{client: &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Result is what one post came to.
type Result struct {
	StatusCode int
	Latency    time.Duration
	// Response is the start of the receiver's body.
	Response string
	// Err is a post that got no answer (refused, reset, timed out);
	// TimedOut says the receiver may have taken it.
	Err      error
	TimedOut bool
}

// maxResponse is how much of a receiver's answer an attempt keeps.
const maxResponse = 512

// Post sends one signed delivery.
func (s *Sender) Post(ctx context.Context, target string, secrets []string, id string, at time.Time, body []byte) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "certdesk-webhooks/1")
	if err := Headers(req.Header, secrets, id, at, body); err != nil {
		return Result{Err: err}
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	r := Result{Latency: time.Since(start)}
	if err != nil {
		r.Err = err
		var ne net.Error
		r.TimedOut = errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded)
		return r
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so the connection is reused
	r.StatusCode, r.Response = resp.StatusCode, strings.ToValidUTF8(string(b), "")
	return r
}
