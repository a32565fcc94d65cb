package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// healthBody is how much of a failed answer health repeats: enough for
// /readyz's reason, in `docker inspect` or a probe's event.
const healthBody = 512

// runHealth asks a URL and succeeds on a 2xx answer: a container's health
// check, in an image without a shell or curl.
func runHealth(ctx context.Context, args []string, stdout io.Writer) error {
	cmd := newCommand("health", "health [--timeout D] URL",
		"Asks URL (GET, e.g. http://127.0.0.1:9090/readyz) and succeeds when it answers 2xx: a container's health check. "+
			"Exit status 0 on 2xx, 1 on another answer or none in time, 2 on a usage mistake.", stdout)
	timeout := cmd.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := cmd.parseWithArgs(args); err != nil {
		return err
	}
	if cmd.NArg() != 1 {
		return usagef("health: name one URL, e.g. http://127.0.0.1:8080/readyz (certdesk health --help)")
	}
	target := cmd.Arg(0)
	if u, err := url.Parse(target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usagef("health: %q is not an http(s) URL such as http://127.0.0.1:8080/readyz", target)
	}
	if *timeout <= 0 {
		return usagef("health: --timeout must be positive, such as 3s")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return usagef("health: %v", err)
	}
	// No proxy: the probe asks this host's process, whatever HTTP_PROXY says.
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("health: GET %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, healthBody))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("health: %s answered %s: %s", target, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(stdout, resp.Status)
	return nil
}
