package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certdesk/certdesk/mail"
)

// runLink: Ben-like learners ask to connect; each case emails a link and
// waits. Their personal accounts are then put on their learning profiles
// (as the learning site would), and each link is used: the POST's answer
// comes once the workflow has taken the signal and moved the case on (the
// page says "Thank you"; "being updated" would mean it had not within 2 s,
// and counts as an error).
func runLink(ctx context.Context, o Options, progress func(string, ...any)) ([]Result, error) {
	s, err := startStack(ctx, o, progress)
	if err != nil {
		return nil, err
	}
	defer s.close()
	people, err := makePeople(ctx, s.pg, shapeBen, 0, o.Cases)
	if err != nil {
		return nil, err
	}
	tokens, err := loginAll(ctx, s.web, people, 8)
	if err != nil {
		return nil, err
	}
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	for range 8 {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(tokens); i = int(next.Add(1) - 1) {
				if err := s.web.do(ctx, "POST", "/api/v1/connect-requests", tokens[i], nil, http.StatusAccepted, nil); err != nil {
					failed.Store(&err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return nil, *err
	}
	if err := awaitCount(ctx, s, "SELECT count(*) FROM captured_mails WHERE step = 'add-account-1'", len(people), 10*time.Minute); err != nil {
		return nil, err
	}
	progress("%d connect cases waiting for their learner's link (%.0f opened per second)", len(people), float64(len(people))/time.Since(began).Seconds())

	var emails, lps []string
	for _, p := range people {
		emails, lps = append(emails, p.personal), append(lps, p.lp)
	}
	if _, err := s.pg.Exec(ctx, `UPDATE accounts SET learning_profile_id = v.lp
		FROM (SELECT unnest($1::text[]) AS email, unnest($2::text[]) AS lp) v WHERE accounts.email = v.email`, emails, lps); err != nil {
		return nil, err
	}
	links, err := capturedLinks(ctx, s, "add-account-1")
	if err != nil {
		return nil, err
	}

	var sm samples
	err = drive(ctx, o.Concurrency, o.Rate, o.Duration, len(links), func(ctx context.Context, i int) error {
		if i >= len(links) {
			return errDone
		}
		start := time.Now()
		var page []byte
		err := s.web.do(ctx, "POST", links[i], "", url.Values{}, http.StatusOK, &page)
		if err == nil && bytes.Contains(page, []byte("being updated")) {
			err = errors.New("the case had not moved on within the page's wait")
		}
		if cutOff(ctx) {
			return ctx.Err()
		}
		sm.add(start, err)
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := sm.result("link", "POST /l/{token}", o.Concurrency)
	goal(&r, "p99 ≤ 100 ms", r.P99ms <= 100)
	return []Result{r}, nil
}

// capturedLinks returns the link paths (/l/…) of the captured emails of a
// step, one per email.
func capturedLinks(ctx context.Context, s *stack, step string) ([]string, error) {
	rows, err := s.pg.Query(ctx, "SELECT links FROM captured_mails WHERE step = $1 ORDER BY id", step)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var paths []string
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		var links []mail.Link
		if err := json.Unmarshal(raw, &links); err != nil {
			return nil, err
		}
		for _, l := range links {
			if i := strings.Index(l.URL, "/l/"); i >= 0 {
				paths = append(paths, l.URL[i:])
				break
			}
		}
	}
	return paths, rows.Err()
}
