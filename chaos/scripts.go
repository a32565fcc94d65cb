package chaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/certdesk/certdesk"
)

// shape is which demo person a generated learner is like.
type shape int

const (
	shapeAna  shape = iota // connects at once
	shapeBen               // signs in with work; must add his personal account
	shapeChen              // duplicates: merge, then connect
	shapeDara              // inactive: recovers to a new address
)

func (s shape) names() (string, string) {
	return [...]string{"Ana", "Ben", "Chen", "Dara"}[s], [...]string{"Silva", "Okafor", "Wei", "Murphy"}[s]
}

// variant is one script: what a person does, and what each case it opens
// must end as.
type variant struct {
	name   string
	shape  shape
	weight int
	run    func(ctx context.Context, r *runner, p *person) error
	// after is what the person's profiles must be once the cases ended.
	after after
}

// after is what a person's profiles must be after the run: the first
// merged into the second (and nothing merged otherwise), the survivor
// connected to their learning profile (and nothing connected otherwise),
// the first re-bound to the new account (and every owner as it was
// otherwise).
// after is what a script leaves: merged (into the older profile, or, with
// intoOwned, into the one the learner's sign-in owns, as a connect case's
// merge does), connected, re-bound.
type after struct{ merged, intoOwned, connected, rebound bool }

// variants are the scripts, with how many of every 21 cases follow each.
var variants = []*variant{
	{"connect-ana", shapeAna, 5, connectAna, after{connected: true}},
	{"connect-ben-adds-account", shapeBen, 2, connectBen(false), after{connected: true}},
	{"connect-ben-uses-link-first", shapeBen, 1, connectBen(true), after{connected: true}},
	{"connect-chen-merge-first", shapeChen, 3, connectChen, after{merged: true, intoOwned: true, connected: true}},
	{"merge-approved", shapeChen, 2, mergeRequest(certdesk.DecisionApprove), after{merged: true}},
	{"merge-rejected", shapeChen, 1, mergeRequest(certdesk.DecisionReject), after{}},
	{"merge-then-undone", shapeChen, 1, mergeUndone, after{}},
	{"recovery-completed", shapeDara, 2, recovery(recoverPlain), after{rebound: true}},
	{"recovery-info-then-completed", shapeDara, 1, recovery(recoverAfterInfo), after{rebound: true}},
	{"recovery-rejected", shapeDara, 1, recovery(recoverRejected), after{}},
	{"recovery-cancelled", shapeDara, 2, recovery(recoverCancelled), after{}},
}

// plan picks the variants of n cases: every variant in proportion (each at
// least once from 21 cases on), in a shuffled order.
func plan(n int, seed int64) []*variant {
	var cycle []*variant
	for _, v := range variants {
		for range v.weight {
			cycle = append(cycle, v)
		}
	}
	out := make([]*variant, n)
	for i := range out {
		out[i] = cycle[i%len(cycle)]
	}
	rnd := rand.New(rand.NewPCG(uint64(seed), 0xc4a05))
	rnd.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// expected is what a case must end as.
type expected struct {
	Variant    string
	Kind       certdesk.Kind
	Status     certdesk.Status
	Resolution string
	// Emails are the steps that send exactly one email each.
	Emails []string
	// Timeline is the event types in order; "a|b" takes either.
	Timeline []string
	person   *person
}

// runner runs the scripts and collects what their cases must end as.
type runner struct {
	c      *apiClient
	mail   *provider
	agents []string // agents' tokens
	// supervisors are the supervisors' ids: a recovery stopped by its
	// owner emails each of them.
	supervisors []string
	// supervisor is Sam's token: he asks to undo merges.
	supervisor string

	mu   sync.Mutex
	exps map[string]*expected
	// resent are the contact addresses whose recovery form was sent
	// again after an answer that never came: the form is not idempotent
	// (a learner's second submission is a second case), so the first may
	// have opened a case the script never sees.
	resent map[string]bool
	// findings are what the scripts saw go wrong on the way, though the
	// case carried on.
	findings []string
}

func (r *runner) finding(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.findings = append(r.findings, fmt.Sprintf(format, args...))
}

func (r *runner) expect(caseID string, p *person, e expected) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Variant, e.person = p.variant.name, p
	r.exps[caseID] = &e
}

func (r *runner) agent() string { return r.agents[rand.N(len(r.agents))] }

// connectAsk asks to connect. A request whose answer never came may have
// started the case (and the case may have ended since, so that asking again
// would open a second one): the learner looks at their cases first.
func (r *runner) connectAsk(ctx context.Context, token string) (caseView, error) {
	return r.ask(ctx, token, "/api/v1/connect-requests", nil, certdesk.KindConnect)
}

// ask posts a request that opens a case, and after an answer that never
// came looks at the learner's cases of that kind before asking again.
func (r *runner) ask(ctx context.Context, token, path string, body any, kind certdesk.Kind) (caseView, error) {
	for {
		var cv caseView
		code, data, err := r.c.do(ctx, "POST", path, token, body, nil, &cv)
		switch {
		case err == nil && (code == http.StatusAccepted || code == http.StatusOK):
			return cv, nil
		case !transient(code, err):
			return cv, &errStatus{"POST", path, code, string(data)}
		}
		// The request may have started a case whose workflow has not
		// opened it yet (its worker was killed): look a while, as a learner
		// reloads their page, before asking again. A merge request is not
		// idempotent (a second ask is a second case), so asking too soon
		// opens a case no script waits for.
		for range 20 {
			if err := r.c.pause(ctx); err != nil {
				return cv, err
			}
			var list struct{ Items []caseView }
			if _, err := r.c.expect(ctx, "GET", "/api/v1/cases?kind="+string(kind), token, nil, &list, http.StatusOK); err != nil {
				return cv, err
			}
			if len(list.Items) > 0 {
				return list.Items[0], nil
			}
		}
	}
}

var connected = expected{Kind: certdesk.KindConnect, Status: certdesk.StatusCompleted, Resolution: certdesk.ConnectConnected}

// startConnect signs the person in and asks to connect.
func (r *runner) startConnect(ctx context.Context, p *person) (string, caseView, error) {
	tok, err := r.c.login(ctx, p.signIn)
	if err != nil {
		return "", caseView{}, err
	}
	cv, err := r.connectAsk(ctx, tok)
	return tok, cv, err
}

func connectAna(ctx context.Context, r *runner, p *person) error {
	tok, cv, err := r.startConnect(ctx, p)
	if err != nil {
		return err
	}
	e := connected
	e.Emails, e.Timeline = []string{"completed"}, []string{"opened", "profiles_found", "connected"}
	r.expect(cv.ID, p, e)
	_, err = r.c.awaitEnd(ctx, tok, cv.ID)
	return err
}

// connectBen: Ben asks, gets the add-account email, adds his personal
// account through the API (which tells the case). linkFirst: he uses the
// email's "I've added it" link before adding it, and gets a second email.
func connectBen(linkFirst bool) func(context.Context, *runner, *person) error {
	return func(ctx context.Context, r *runner, p *person) error {
		tok, cv, err := r.startConnect(ctx, p)
		if err != nil {
			return err
		}
		e := connected
		e.Emails = []string{"add-account-1", "completed"}
		e.Timeline = []string{"opened", "awaiting_learner", "account_added|link_used", "profiles_found", "connected"}
		if linkFirst {
			e.Emails = []string{"add-account-1", "add-account-2", "completed"}
			e.Timeline = []string{"opened", "awaiting_learner", "link_used", "awaiting_learner", "account_added|link_used", "profiles_found", "connected"}
		}
		r.expect(cv.ID, p, e)
		m, err := r.mail.awaitMail(ctx, r.c, cv.ID, "add-account-1")
		if err != nil {
			return err
		}
		if linkFirst {
			if err := r.c.click(ctx, m.Link, nil); err != nil {
				return err
			}
			if m, err = r.mail.awaitMail(ctx, r.c, cv.ID, "add-account-2"); err != nil {
				return err
			}
		}
		code, err := r.c.expect(ctx, "POST", "/api/v1/learning-profiles/"+p.lp+"/accounts", tok,
			map[string]string{"email": p.personal, "kind": "personal"}, nil, http.StatusCreated, http.StatusOK)
		if err != nil {
			return err
		}
		if code == http.StatusOK {
			// An earlier attempt added it, and may not have told the case:
			// Ben uses the link, as the email says to. If it did, the case
			// may have ended already, and the link says so (410).
			var gone *errStatus
			if err := r.c.click(ctx, m.Link, nil); err != nil && !(errors.As(err, &gone) && gone.Code == http.StatusGone) {
				return err
			}
		}
		_, err = r.c.awaitEnd(ctx, tok, cv.ID)
		return err
	}
}

var (
	mergeTimeline  = []string{"opened", "preview", "awaiting_agent", "decided", "merged", "completed"}
	mergeRejection = []string{"opened", "preview", "awaiting_agent", "decided", "rejected"}
	mergeThenUndo  = append(slices.Clone(mergeTimeline), "merge_undone")
	unmergeDone    = []string{"opened", "preview", "awaiting_agent", "decided", "unmerged", "completed"}
)

// connectChen: the connect case finds duplicates and runs a merge case; an
// agent approves it; the survivor is connected.
func connectChen(ctx context.Context, r *runner, p *person) error {
	tok, cv, err := r.startConnect(ctx, p)
	if err != nil {
		return err
	}
	e := connected
	e.Emails, e.Timeline = []string{"completed"}, []string{"opened", "profiles_found", "merge_started", "merge_finished", "connected"}
	r.expect(cv.ID, p, e)
	cv, err = r.c.awaitCase(ctx, tok, cv.ID, "a merge case", func(cv caseView) bool { return cv.Details.MergeCaseID != "" || cv.Status.Terminal() })
	if err != nil || cv.Details.MergeCaseID == "" {
		return errorf("connect case %s ran no merge (%s): %v", cv.ID, cv.Status, err)
	}
	agent := r.agent()
	mergeID, err := r.mergeOf(ctx, agent, cv, p.mcid)
	if err != nil {
		return err
	}
	r.expect(mergeID, p, expected{Kind: certdesk.KindMerge, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged,
		Emails: []string{"completed"}, Timeline: mergeTimeline})
	if _, err := r.c.awaitStatus(ctx, agent, mergeID, certdesk.StatusAwaitingAgent); err != nil {
		return err
	}
	if err := r.c.decide(ctx, agent, mergeID, map[string]string{"decision": "approve", "note": "same person: same name and email"}); err != nil {
		return err
	}
	_, err = r.c.awaitEnd(ctx, tok, cv.ID)
	return err
}

// mergeOf finds the merge case a connect case runs: the one its details
// name. Should that case not exist, the agent finds the merge in the queue
// (by the learner's MCID: the case whose parent is the connect case) and
// the run reports it.
func (r *runner) mergeOf(ctx context.Context, agent string, connect caseView, mcid string) (string, error) {
	named := connect.Details.MergeCaseID
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		code, _, err := r.c.do(ctx, "GET", "/api/v1/cases/"+named, agent, nil, nil, nil)
		if err == nil && code == http.StatusOK {
			return named, nil
		}
		if err := r.c.pause(ctx); err != nil {
			return "", err
		}
	}
	for {
		var list struct{ Items []caseView }
		q := url.Values{"kind": {"merge"}, "q": {mcid}, "limit": {"100"}}
		if _, err := r.c.expect(ctx, "GET", "/api/v1/cases?"+q.Encode(), agent, nil, &list, http.StatusOK); err != nil {
			return "", err
		}
		for _, m := range list.Items {
			if m.ParentID == connect.ID {
				r.finding("connect case %s names merge case %s, which does not exist; its merge case is %s", connect.ID, named, m.ID)
				return m.ID, nil
			}
		}
		if err := r.c.pause(ctx); err != nil {
			return "", errorf("connect case %s: no merge case %s, and none in the queue: %w", connect.ID, named, err)
		}
	}
}

// mergeRequest: the learner asks for their duplicates to be merged; an
// agent approves or rejects.
func mergeRequest(decision certdesk.Decision) func(context.Context, *runner, *person) error {
	return func(ctx context.Context, r *runner, p *person) error {
		tok, err := r.c.login(ctx, p.signIn)
		if err != nil {
			return err
		}
		id, err := r.askMerge(ctx, tok, p)
		if err != nil {
			return err
		}
		e := expected{Kind: certdesk.KindMerge, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged,
			Emails: []string{"completed"}, Timeline: mergeTimeline}
		body := map[string]string{"decision": string(decision), "note": "same person: same name and email"}
		if decision == certdesk.DecisionReject {
			e.Status, e.Resolution, e.Emails, e.Timeline = certdesk.StatusRejected, certdesk.MergeRejectedByAgent, []string{"rejected"}, mergeRejection
			body["note"] = "these profiles belong to two people"
		}
		r.expect(id, p, e)
		agent := r.agent()
		if _, err := r.c.awaitStatus(ctx, agent, id, certdesk.StatusAwaitingAgent); err != nil {
			return err
		}
		if err := r.c.decide(ctx, agent, id, body); err != nil {
			return err
		}
		_, err = r.c.awaitEnd(ctx, agent, id)
		return err
	}
}

// askMerge posts a merge request.
func (r *runner) askMerge(ctx context.Context, tok string, p *person) (string, error) {
	cv, err := r.ask(ctx, tok, "/api/v1/merge-requests", map[string]any{"profile_ids": p.profiles, "note": "Both are me: I registered twice."}, certdesk.KindMerge)
	return cv.ID, err
}

// mergeUndone: the learner's duplicates are merged, then a supervisor
// undoes the merge and an agent approves the undo: both profiles are as
// before, each owner is told.
func mergeUndone(ctx context.Context, r *runner, p *person) error {
	tok, err := r.c.login(ctx, p.signIn)
	if err != nil {
		return err
	}
	id, err := r.askMerge(ctx, tok, p)
	if err != nil {
		return err
	}
	r.expect(id, p, expected{Kind: certdesk.KindMerge, Status: certdesk.StatusCompleted, Resolution: certdesk.MergeMerged,
		Emails: []string{"completed"}, Timeline: mergeThenUndo})
	agent := r.agent()
	if _, err := r.c.awaitStatus(ctx, agent, id, certdesk.StatusAwaitingAgent); err != nil {
		return err
	}
	if err := r.c.decide(ctx, agent, id, map[string]string{"decision": "approve"}); err != nil {
		return err
	}
	if _, err := r.c.awaitEnd(ctx, agent, id); err != nil {
		return err
	}
	// Asking again after an answer that never came answers the open undo.
	var un caseView
	path := "/api/v1/cases/" + id + "/undo"
	for {
		code, data, err := r.c.do(ctx, "POST", path, r.supervisor, map[string]string{"note": "two different people"}, nil, &un)
		if err == nil && (code == http.StatusAccepted || code == http.StatusOK) {
			break
		}
		if !transient(code, err) {
			return &errStatus{"POST", path, code, string(data)}
		}
		if err := r.c.pause(ctx); err != nil {
			return err
		}
	}
	// Each profile has its own owner: two emails.
	r.expect(un.ID, p, expected{Kind: certdesk.KindUnmerge, Status: certdesk.StatusCompleted, Resolution: certdesk.UnmergeUnmerged,
		Emails: []string{"undone-0", "undone-1"}, Timeline: unmergeDone})
	if _, err := r.c.awaitStatus(ctx, agent, un.ID, certdesk.StatusAwaitingAgent); err != nil {
		return err
	}
	if err := r.c.decide(ctx, agent, un.ID, map[string]string{"decision": "approve", "note": "checked"}); err != nil {
		return err
	}
	_, err = r.c.awaitEnd(ctx, agent, un.ID)
	return err
}
