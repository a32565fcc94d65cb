package chaos

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// person is one learner of the run's world, made for one scripted case:
// like one of the demo people, with addresses and an MCID of their own.
type person struct {
	n       int
	variant *variant
	name    string
	lp      string
	// signIn is the account the learner signs in with (Ben's is work).
	signIn string
	// personal is Ben's personal account, not yet on his learning profile.
	personal string
	// profiles are the learner's certification profiles; with duplicates,
	// the second is the older one (the merge's target).
	profiles []string
	// owners are the profiles' owners before the run.
	owners []string
	mcid   string
	// owner is the account that owns profiles[0] before the run.
	owner string
	// lost and newEmail are a recovery's lost sign-in and new address.
	lost, newEmail string
	// certs counts the certifications made on each profile.
	certs int
}

// suffix spells n in letters, so names stay names ("Ana Silva Bcd").
func suffix(n int) string {
	s := []byte{}
	for n++; n > 0; n /= 26 {
		s = append([]byte{byte('a' + n%26)}, s...)
	}
	s[0] -= 'a' - 'A'
	return string(s)
}

// makeWorld creates the people of the run in the store, one per scripted
// case, shaped like the demo people of their variant, with certifications
// on every profile. Rows go through the store; certifications, which the
// store has no method to create, are inserted with SQL.
func makeWorld(ctx context.Context, st *store.Store, db *sql.DB, variants []*variant) ([]*person, error) {
	now := time.Now().UTC()
	people := make([]*person, len(variants))
	for i, v := range variants {
		tag := fmt.Sprintf("%04d", i)
		p := &person{n: i, variant: v, mcid: fmt.Sprint(300000 + i), certs: 2}
		first, last := v.shape.names()
		p.name = first + " " + last + " " + suffix(i)
		lp := certdesk.LearningProfile{DisplayName: p.name, CreatedAt: now.AddDate(-2, 0, 0)}
		if err := st.CreateLearningProfile(ctx, &lp); err != nil {
			return nil, err
		}
		p.lp = lp.ID
		recent := now.Add(-72 * time.Hour)
		account := func(email, kind string, onLP bool, last time.Time, status string) (string, error) {
			a := certdesk.Account{Email: email, Kind: kind, DisplayName: p.name, LastSignInAt: &last, Status: status, CreatedAt: now.AddDate(-3, 0, 0)}
			if onLP {
				a.LearningProfileID = &p.lp
			}
			err := st.CreateAccount(ctx, &a)
			return a.ID, err
		}
		profile := func(mcid, email, owner string, created time.Time) (string, error) {
			cp := certdesk.CertificationProfile{MCID: mcid, LegalName: p.name, Email: email, OwnerAccountID: &owner, CreatedAt: created}
			if err := st.CreateCertificationProfile(ctx, &cp); err != nil {
				return "", err
			}
			p.profiles, p.owners = append(p.profiles, cp.ID), append(p.owners, owner)
			return cp.ID, nil
		}
		var err error
		switch v.shape {
		case shapeAna:
			p.signIn = "ana." + tag + "@outlook.example"
			if p.owner, err = account(p.signIn, certdesk.AccountPersonal, true, recent, certdesk.AccountActive); err == nil {
				_, err = profile(p.mcid, p.signIn, p.owner, now.AddDate(-2, 0, 0))
			}
		case shapeBen:
			p.signIn, p.personal = "ben."+tag+"@contoso.example", "ben."+tag+"@hotmail.example"
			if _, err = account(p.signIn, certdesk.AccountWork, true, recent, certdesk.AccountActive); err == nil {
				if p.owner, err = account(p.personal, certdesk.AccountPersonal, false, recent.AddDate(0, -1, 0), certdesk.AccountActive); err == nil {
					_, err = profile(p.mcid, p.personal, p.owner, now.AddDate(-4, 0, 0))
				}
			}
		case shapeChen:
			// As Chen Wei: a profile of the account he signs in with, and an
			// older one owned by another account of his with the same email.
			p.signIn = "chen." + tag + "@outlook.example"
			other := "c." + tag + "@gmail.example"
			var otherID string
			if p.owner, err = account(p.signIn, certdesk.AccountPersonal, true, recent, certdesk.AccountActive); err == nil {
				if otherID, err = account(other, certdesk.AccountPersonal, false, recent.AddDate(0, -6, 0), certdesk.AccountActive); err == nil {
					if _, err = profile(p.mcid, p.signIn, p.owner, now.AddDate(-2, 0, 0)); err == nil {
						_, err = profile(fmt.Sprint(600000+i), p.signIn, otherID, now.AddDate(-3, 0, 0))
					}
				}
			}
		case shapeDara:
			// As Dara Murphy: inactive for three years; recovers to a new address.
			p.lost, p.newEmail = "dara."+tag+"@outlook.example", "dara.new."+tag+"@proton.example"
			if p.owner, err = account(p.lost, certdesk.AccountPersonal, true, now.AddDate(-3, 0, 0), certdesk.AccountInactive); err == nil {
				_, err = profile(p.mcid, p.lost, p.owner, now.AddDate(-5, 0, 0))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("chaos: make %s: %w", p.name, err)
		}
		for j, id := range p.profiles {
			if err := insertCertifications(ctx, db, id, j, p.certs, now); err != nil {
				return nil, err
			}
		}
		people[i] = p
	}
	return people, nil
}

// insertCertifications gives a profile its certifications. Duplicates share
// AZ-900, so a merge collapses one.
func insertCertifications(ctx context.Context, db *sql.DB, profileID string, j, n int, now time.Time) error {
	codes := [][]string{{"AZ-900", "AZ-204"}, {"AZ-900", "DP-900"}}[j%2]
	for k := range n {
		earned := now.AddDate(-3+j, k, 0)
		_, err := db.ExecContext(ctx, `INSERT INTO certifications (id, profile_id, code, title, earned_at, created_at) VALUES ($1, $2, $3, $4, $5, $5)`,
			certdesk.NewID(), profileID, codes[k%len(codes)], "Microsoft Certified: "+codes[k%len(codes)], earned)
		if err != nil {
			return fmt.Errorf("chaos: certification of %s: %w", profileID, err)
		}
	}
	return nil
}
