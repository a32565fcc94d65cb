package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// Every request the API can refuse is refused with its reason, and starts
// nothing: no case row (the harness has no Temporal, so a request that got
// through would answer 503).
func TestMergeRequestRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		ctx := context.Background()
		var (
			p1, p2, p3, p4, p5 = store.DemoID("profile:100001"), store.DemoID("profile:100002"), store.DemoID("profile:100003"),
				store.DemoID("profile:100004"), store.DemoID("profile:100005")
			unknown = certdesk.NewID()
		)
		// Dara has a profile merged into her current one; Ana's and Chen's
		// newer profile are connected; Ben owns 100002 (not yet his).
		into, owner := p5, store.DemoID("account:dara.murphy@outlook.example")
		merged := certdesk.CertificationProfile{MCID: "100099", LegalName: "Dara Murphy", Email: "dara.murphy@outlook.example",
			OwnerAccountID: &owner, Status: certdesk.ProfileMerged, MergedIntoID: &into,
			CreatedAt: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)}
		if err := h.store.CreateCertificationProfile(ctx, &merged); err != nil {
			t.Fatal(err)
		}
		if err := h.store.SetConnectedLearningProfile(ctx, p1, store.DemoID("lp:ana")); err != nil {
			t.Fatal(err)
		}
		if err := h.store.SetConnectedLearningProfile(ctx, p3, store.DemoID("lp:chen")); err != nil {
			t.Fatal(err)
		}
		// Dara's account is active again (recovered), so she can sign in.
		if err := storetest.SetAccountStatus(ctx, h.store, owner, certdesk.AccountActive); err != nil {
			t.Fatal(err)
		}
		chen, dara, alice := h.login("chen.wei@outlook.example"), h.login("dara.murphy@outlook.example"), h.login("alice.agent@certdesk.example")

		tests := []struct {
			name  string
			who   string
			body  any
			code  int
			field string // the field named, for 400s
			says  string // in the message, otherwise
		}{
			{"anonymous", "", map[string]any{"profile_ids": []string{p3, p4}}, 401, "", "sign in"},
			{"not JSON", chen, `{"profile_ids":`, 400, "", "not valid JSON"},
			{"an unknown field", chen, map[string]any{"profile_ids": []string{p3, p4}, "force": true}, 400, "force", ""},
			{"no profiles", chen, map[string]any{}, 400, "profile_ids", ""},
			{"one profile", chen, map[string]any{"profile_ids": []string{p3}}, 400, "profile_ids", ""},
			{"the same profile twice", chen, map[string]any{"profile_ids": []string{p3, p3}}, 400, "profile_ids", ""},
			{"not an id", chen, map[string]any{"profile_ids": []string{p3, "100004"}}, 400, "profile_ids", ""},
			{"a target not among them", chen, map[string]any{"profile_ids": []string{p3, p4}, "target_id": p2}, 400, "target_id", ""},
			{"a note too long", chen, map[string]any{"profile_ids": []string{p3, p4}, "note": strings.Repeat("x", 4001)}, 400, "note", ""},
			{"an unknown profile", chen, map[string]any{"profile_ids": []string{p3, unknown}}, 404, "", `no certification profile "` + unknown + `"`},
			{"someone else's profile", chen, map[string]any{"profile_ids": []string{p3, p1}}, 404, "", `no certification profile "` + p1 + `"`},
			{"a merged profile", dara, map[string]any{"profile_ids": []string{p5, merged.ID}}, 409, "", "MCID 100099 is already merged"},
			{"not into the connected one", chen, map[string]any{"profile_ids": []string{p3, p4}, "target_id": p4}, 409, "", "can only be merged into it"},
			{"two connected profiles", alice, map[string]any{"profile_ids": []string{p1, p3}}, 409, "", "both connected"},
			{"an agent: unknown", alice, map[string]any{"profile_ids": []string{p2, unknown}}, 404, "", "no certification profile"},
		}
		for _, tc := range tests {
			r := h.do("POST", "/api/v1/merge-requests", tc.who, tc.body)
			e, _ := r.json(t)["error"].(map[string]any)
			msg, _ := e["message"].(string)
			fields, _ := e["fields"].(map[string]any)
			switch {
			case r.Code != tc.code:
				t.Errorf("%s: %d %s, want %d", tc.name, r.Code, r.Body, tc.code)
			case tc.field != "" && fields[tc.field] == nil:
				t.Errorf("%s: %s, want the field %s named", tc.name, r.Body, tc.field)
			case tc.says != "" && !strings.Contains(msg, tc.says):
				t.Errorf("%s: %q, want it to say %q", tc.name, msg, tc.says)
			}
		}
		page, err := h.store.ListCases(ctx, store.CaseFilter{})
		if err != nil || len(page.Items) != 0 {
			t.Errorf("refused requests left cases: %v %v", page.Items, err)
		}

		// A request that passes every check needs Temporal to start.
		r := h.do("POST", "/api/v1/merge-requests", chen, map[string]any{"profile_ids": []string{p3, p4}})
		if r.Code != http.StatusServiceUnavailable {
			t.Errorf("a valid request without Temporal: %d %s, want 503", r.Code, r.Body)
		}
	})
}
