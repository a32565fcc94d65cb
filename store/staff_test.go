package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// A staff member's life: added by hand or by the provider's roles, role
// changes, disabled (sessions, tokens and claims end at once), enabled.
func TestStaffLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)

		nora, err := s.AddStaff(ctx, store.StaffIdentity{Email: "Nora@Desk.example", Role: certdesk.RoleAgent})
		if err != nil || nora.Email != "nora@desk.example" || nora.Name != "nora" || nora.Source != certdesk.StaffByHand || !nora.Active() {
			t.Fatalf("AddStaff = %+v, %v", nora, err)
		}
		if _, err := s.AddStaff(ctx, store.StaffIdentity{Email: "nora@desk.example", Role: certdesk.RoleSupervisor}); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("adding her twice = %v, want conflict", err)
		}
		if a, err := s.SetStaffRole(ctx, "nora@desk.example", certdesk.RoleSupervisor); err != nil || a.Role != certdesk.RoleSupervisor {
			t.Errorf("SetStaffRole = %+v, %v", a, err)
		}
		if _, err := s.SetStaffRole(ctx, "nobody@desk.example", certdesk.RoleAgent); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("SetStaffRole of nobody = %v, want not found", err)
		}

		// Her session, her token and two claimed cases (one closed).
		sess := &store.Session{ID: certdesk.NewID(), Subject: "agent:" + nora.ID, Method: "oidc", ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		_, hash := certdesk.NewToken()
		pat := &store.AccessToken{AgentID: nora.ID, Name: "cli", Hash: hash, ExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateAccessToken(ctx, pat, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		held, closed := openCase(t, s), openCase(t, s)
		for _, c := range []certdesk.Case{held, closed} {
			if _, _, err := s.ChangeCase(ctx, store.Change{CaseID: c.ID, Assignee: &nora.ID, Event: store.Event{Actor: certdesk.AgentActor(nora.ID), Type: certdesk.EventClaimed}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.ChangeCase(ctx, store.Change{CaseID: closed.ID, Status: certdesk.StatusCompleted, Event: store.Event{Actor: certdesk.ActorSystem, Type: "completed"}}); err != nil {
			t.Fatal(err)
		}

		a, err := s.DisableStaff(ctx, "NORA@desk.example")
		if err != nil || a.Active() || a.DisabledReason != certdesk.StaffDisabled {
			t.Fatalf("DisableStaff = %+v, %v", a, err)
		}
		if _, err := s.SessionHolder(ctx, sess.ID); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("her session after disable = %v, want gone", err)
		}
		if _, err := s.LiveAccessToken(ctx, hash); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("her token after disable = %v, want gone", err)
		}
		if c, _ := s.Case(ctx, held.ID); c.AssigneeID != nil {
			t.Errorf("her open case is still hers: %+v", c.AssigneeID)
		}
		evs, _ := s.Events(ctx, held.ID, 0, 0)
		if last := evs[len(evs)-1]; last.Type != certdesk.EventReleased || last.Actor != certdesk.ActorSystem {
			t.Errorf("the open case's last event = %+v, want released by the system", last)
		}
		if c, _ := s.Case(ctx, closed.ID); c.AssigneeID == nil || *c.AssigneeID != nora.ID {
			t.Errorf("a closed case's assignee changed: %v", c.AssigneeID)
		}

		// Disabled by a person: the provider's role does not undo it.
		if _, err := s.StaffSignIn(ctx, store.StaffIdentity{Subject: "iss|nora", Email: "nora@desk.example", Role: certdesk.RoleAgent}); certdesk.ErrorCode(err) != certdesk.EFORBIDDEN {
			t.Errorf("sign-in with a role after a disable = %v, want forbidden", err)
		}
		if a, err := s.EnableStaff(ctx, "nora@desk.example"); err != nil || !a.Active() {
			t.Errorf("EnableStaff = %+v, %v", a, err)
		}
	})
}

// The provider's app roles make and update staff at each sign-in; a sign-in
// without the role disables a member the provider made, never one added by
// hand, and the role given again enables them.
func TestStaffFromTheProvider(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)

		id := store.StaffIdentity{Subject: "iss|omar", Email: "omar@desk.example", Name: "Omar", Role: certdesk.RoleAgent}
		omar, err := s.StaffSignIn(ctx, id)
		if err != nil || omar.Source != certdesk.StaffFromProvider || omar.Role != certdesk.RoleAgent || omar.LastSignInAt == nil {
			t.Fatalf("first StaffSignIn = %+v, %v", omar, err)
		}
		id.Role, id.Name = certdesk.RoleSupervisor, "Omar K."
		if a, err := s.StaffSignIn(ctx, id); err != nil || a.ID != omar.ID || a.Role != certdesk.RoleSupervisor || a.Name != "Omar K." {
			t.Errorf("StaffSignIn with a new role = %+v, %v", a, err)
		}
		a, err := s.StaffRoleRemoved(ctx, id.Subject, id.Email)
		if err != nil || a.Active() || a.DisabledReason != certdesk.StaffRoleRemoved {
			t.Errorf("StaffRoleRemoved = %+v, %v", a, err)
		}
		if a, err := s.StaffSignIn(ctx, id); err != nil || !a.Active() {
			t.Errorf("the role given again = %+v, %v; want enabled", a, err)
		}

		// Added by hand: the provider does not remove a role it did not give.
		pat, _ := s.AddStaff(ctx, store.StaffIdentity{Email: "pat@desk.example", Role: certdesk.RoleSupervisor})
		if a, err := s.StaffRoleRemoved(ctx, "iss|pat", "pat@desk.example"); err != nil || !a.Active() || a.ID != pat.ID {
			t.Errorf("StaffRoleRemoved of a member added by hand = %+v, %v; want untouched", a, err)
		}
		if _, err := s.StaffRoleRemoved(ctx, "iss|stranger", "stranger@desk.example"); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("StaffRoleRemoved of a stranger = %v, want not found", err)
		}
		// An address bound to another subject is someone else's.
		if _, err := s.StaffSignIn(ctx, store.StaffIdentity{Subject: "iss|impostor", Email: "omar@desk.example", Role: certdesk.RoleAgent}); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("another subject with Omar's address = %v, want conflict", err)
		}
	})
}

// A learner's first sign-in makes their account (bound to the subject) and
// a learning profile; later sign-ins find the same account.
func TestSignInLearnerCreatesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)

		id := store.LearnerIdentity{Subject: "iss|lena", Email: "lena@outlook.example", Name: "Lena", Kind: certdesk.AccountPersonal}
		a, created, err := s.SignInLearner(ctx, id)
		if err != nil || !created || a.Kind != certdesk.AccountPersonal || a.LearningProfileID == nil {
			t.Fatalf("first SignInLearner = %+v, %v, %v", a, created, err)
		}
		lp, err := s.LearningProfile(ctx, *a.LearningProfileID)
		if err != nil || lp.DisplayName != "Lena" {
			t.Errorf("learning profile = %+v, %v", lp, err)
		}
		again, created, err := s.SignInLearner(ctx, store.LearnerIdentity{Subject: "iss|lena"})
		if err != nil || created || again.ID != a.ID || *again.LearningProfileID != *a.LearningProfileID {
			t.Errorf("second SignInLearner = %+v, %v, %v", again, created, err)
		}
		// Another subject with her address: not hers to take.
		if _, _, err := s.SignInLearner(ctx, store.LearnerIdentity{Subject: "iss|other", Email: "lena@outlook.example", Kind: certdesk.AccountPersonal}); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("another subject with her address = %v, want conflict", err)
		}
		// Nothing to create an account with.
		if _, _, err := s.SignInLearner(ctx, store.LearnerIdentity{Subject: "iss|nomail"}); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("no email = %v, want not found", err)
		}
		// An account certdesk knew before (no learning profile) gets one
		// at its first sign-in too.
		known := &certdesk.Account{Email: "known@contoso.example", Kind: certdesk.AccountWork}
		if err := s.CreateAccount(ctx, known); err != nil {
			t.Fatal(err)
		}
		k, created, err := s.SignInLearner(ctx, store.LearnerIdentity{Subject: "iss|known", Email: "known@contoso.example", Kind: certdesk.AccountWork})
		if err != nil || created || k.ID != known.ID || k.LearningProfileID == nil || k.OIDCSubject == nil {
			t.Errorf("SignInLearner of a known account = %+v, %v, %v", k, created, err)
		}
	})
}

// An account whose own sign-in made its learning profile joins its owner's
// main one by its own sign-in while that profile holds nothing else; any
// other learning profile keeps its account.
func TestAddAccountMovesOnlyFromAnEmptySignInProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		s := storetest.Open(t, dialect)
		main := &certdesk.LearningProfile{DisplayName: "Ben"}
		if err := s.CreateLearningProfile(ctx, main); err != nil {
			t.Fatal(err)
		}
		signIn := func(sub, email string) certdesk.Account {
			a, _, err := s.SignInLearner(ctx, store.LearnerIdentity{Subject: sub, Email: email, Kind: certdesk.AccountPersonal})
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		solo := signIn("iss|solo", "solo@hotmail.example")
		if _, _, err := s.AddAccount(ctx, main.ID, "solo@hotmail.example", certdesk.AccountPersonal, ""); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("added without its sign-in = %v, want conflict", err)
		}
		a, added, err := s.AddAccount(ctx, main.ID, "solo@hotmail.example", certdesk.AccountPersonal, "iss|solo")
		if err != nil || !added || *a.LearningProfileID != main.ID {
			t.Fatalf("moved by its own sign-in = %+v, %v, %v", a, added, err)
		}
		if _, err := s.LearningProfile(ctx, *solo.LearningProfileID); !errors.Is(err, certdesk.ErrNotFound) {
			t.Errorf("the emptied learning profile = %v, want gone", err)
		}

		// A sign-in profile with a case of its own keeps its account.
		busy := signIn("iss|busy", "busy@hotmail.example")
		c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindConnect, Requester: certdesk.ActorSystem, WorkflowID: "w-" + certdesk.NewID(), LearningProfileID: busy.LearningProfileID}
		if _, err := s.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AddAccount(ctx, main.ID, "busy@hotmail.example", certdesk.AccountPersonal, "iss|busy"); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("moved from a learning profile with a case = %v, want conflict", err)
		}
		// A learning profile the learning site made keeps its account.
		other := &certdesk.LearningProfile{DisplayName: "Other"}
		if err := s.CreateLearningProfile(ctx, other); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AddAccount(ctx, other.ID, "site@hotmail.example", certdesk.AccountPersonal, "iss|site"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AddAccount(ctx, main.ID, "site@hotmail.example", certdesk.AccountPersonal, "iss|site"); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("moved from the learning site's profile = %v, want conflict", err)
		}
	})
}
