package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/certdesk/certdesk"
)

// The demo world (README, "The demo world"): fixed people, so anyone can walk every path.
// Ids are derived from fixed names, so seeding twice inserts nothing twice.

// DemoPerson is one signed-in identity of the demo world.
type DemoPerson struct {
	Name  string
	Email string
	Role  certdesk.Role
	Shows string // the path this person demonstrates
}

// DemoPeople lists who /dev/login offers, in the order of the design's table.
var DemoPeople = []DemoPerson{
	{"Ana Silva", "ana.silva@outlook.example", certdesk.RoleLearner, "connects at once"},
	{"Ben Okafor", "ben.okafor@contoso.example", certdesk.RoleLearner, "signs in with work; must add his personal account first"},
	{"Chen Wei", "chen.wei@outlook.example", certdesk.RoleLearner, "has duplicate profiles: merge, then connect"},
	{"Dara Murphy", "dara.murphy@outlook.example", certdesk.RoleLearner, "inactive for three years: recovers to dara.m@proton.example"},
	{"Alice Agent", "alice.agent@certdesk.example", certdesk.RoleAgent, "works the queue"},
	{"Bob Agent", "bob.agent@certdesk.example", certdesk.RoleAgent, "works the queue; the second pair of eyes"},
	{"Sam Supervisor", "sam.supervisor@certdesk.example", certdesk.RoleSupervisor, "escalations and reassignment"},
}

// DemoID is the fixed id of a demo row.
func DemoID(name string) string {
	sum := sha256.Sum256([]byte("certdesk-demo:" + name))
	var b [16]byte
	copy(b[:], sum[:16])
	return certdesk.IDFromBytes(b)
}

// SeedResult counts what Seed inserted.
type SeedResult struct{ Inserted int }

// Seed inserts the demo world's missing rows. Rows that exist are left as
// they are, changes made by cases included.
func (s *Store) Seed(ctx context.Context) (SeedResult, error) {
	now := s.now()
	day := 24 * time.Hour
	recent := now.Add(-3 * day)
	threeYears := now.AddDate(-3, 0, 0)
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }
	ptr := func(s string) *string { return &s }

	lps := []certdesk.LearningProfile{
		{ID: DemoID("lp:ana"), DisplayName: "Ana Silva", CreatedAt: date(2021, 3, 1)},
		{ID: DemoID("lp:ben"), DisplayName: "Ben Okafor", CreatedAt: date(2022, 1, 10)},
		{ID: DemoID("lp:chen"), DisplayName: "Chen Wei", CreatedAt: date(2020, 6, 5)},
		{ID: DemoID("lp:dara"), DisplayName: "Dara Murphy", CreatedAt: date(2019, 2, 20)},
	}
	account := func(email, kind, name, lp string, last time.Time, status string, created time.Time) certdesk.Account {
		a := certdesk.Account{ID: DemoID("account:" + email), Email: email, Kind: kind, DisplayName: name,
			Status: status, LastSignInAt: &last, CreatedAt: created}
		if lp != "" {
			a.LearningProfileID = ptr(DemoID("lp:" + lp))
		}
		return a
	}
	accounts := []certdesk.Account{
		account("ana.silva@outlook.example", certdesk.AccountPersonal, "Ana Silva", "ana", recent, certdesk.AccountActive, date(2021, 3, 1)),
		account("ben.okafor@contoso.example", certdesk.AccountWork, "Ben Okafor", "ben", recent, certdesk.AccountActive, date(2022, 1, 10)),
		account("ben.okafor@hotmail.example", certdesk.AccountPersonal, "Ben Okafor", "", recent.Add(-40*day), certdesk.AccountActive, date(2018, 4, 2)),
		account("chen.wei@outlook.example", certdesk.AccountPersonal, "Chen Wei", "chen", recent, certdesk.AccountActive, date(2020, 6, 5)),
		account("c.wei@gmail.example", certdesk.AccountPersonal, "Chen Wei", "", recent.Add(-200*day), certdesk.AccountActive, date(2019, 8, 14)),
		account("dara.murphy@outlook.example", certdesk.AccountPersonal, "Dara Murphy", "dara", threeYears, certdesk.AccountInactive, date(2019, 2, 20)),
	}
	profile := func(mcid, name, email, owner string, created time.Time) certdesk.CertificationProfile {
		return certdesk.CertificationProfile{ID: DemoID("profile:" + mcid), MCID: mcid, LegalName: name, Email: email,
			OwnerAccountID: ptr(DemoID("account:" + owner)), Status: certdesk.ProfileActive, CreatedAt: created, UpdatedAt: created}
	}
	profiles := []certdesk.CertificationProfile{
		profile("100001", "Ana Silva", "ana.silva@outlook.example", "ana.silva@outlook.example", date(2021, 2, 1)),
		profile("100002", "Ben Okafor", "ben.okafor@hotmail.example", "ben.okafor@hotmail.example", date(2018, 4, 2)),
		profile("100003", "Chen Wei", "chen.wei@outlook.example", "chen.wei@outlook.example", date(2020, 6, 1)),
		profile("100004", "Chen Wei", "chen.wei@outlook.example", "c.wei@gmail.example", date(2019, 8, 14)),
		profile("100005", "Dara Murphy", "dara.murphy@outlook.example", "dara.murphy@outlook.example", date(2019, 2, 20)),
	}
	cert := func(mcid, code, title string, earned time.Time) certdesk.Certification {
		exp := earned.AddDate(3, 0, 0)
		return certdesk.Certification{ID: DemoID("cert:" + mcid + ":" + code), ProfileID: DemoID("profile:" + mcid),
			Code: code, Title: title, EarnedAt: earned, ExpiresAt: &exp, CreatedAt: earned}
	}
	certs := []certdesk.Certification{
		cert("100001", "AZ-900", "Microsoft Certified: Azure Fundamentals", date(2021, 4, 12)),
		cert("100001", "AZ-104", "Microsoft Certified: Azure Administrator Associate", date(2022, 9, 30)),
		cert("100002", "PL-900", "Microsoft Certified: Power Platform Fundamentals", date(2018, 6, 3)),
		cert("100002", "PL-300", "Microsoft Certified: Power BI Data Analyst Associate", date(2020, 11, 19)),
		cert("100003", "AZ-204", "Microsoft Certified: Azure Developer Associate", date(2021, 5, 7)),
		cert("100003", "AZ-900", "Microsoft Certified: Azure Fundamentals", date(2020, 9, 2)),
		cert("100004", "AZ-900", "Microsoft Certified: Azure Fundamentals", date(2019, 10, 21)),
		cert("100004", "DP-900", "Microsoft Certified: Azure Data Fundamentals", date(2020, 1, 15)),
		cert("100005", "MS-900", "Microsoft 365 Certified: Fundamentals", date(2019, 5, 9)),
		cert("100005", "SC-900", "Microsoft Certified: Security, Compliance, and Identity Fundamentals", date(2021, 7, 23)),
	}
	exam := func(mcid, code, title string, score int, taken time.Time) certdesk.TranscriptEntry {
		return certdesk.TranscriptEntry{ID: DemoID(fmt.Sprintf("exam:%s:%s:%d", mcid, code, taken.Year())), ProfileID: DemoID("profile:" + mcid),
			ExamCode: code, ExamTitle: title, Score: score, Passed: score >= 700, TakenAt: taken, CreatedAt: taken}
	}
	exams := []certdesk.TranscriptEntry{
		exam("100001", "AZ-900", "Microsoft Azure Fundamentals", 812, date(2021, 4, 12)),
		exam("100001", "AZ-104", "Microsoft Azure Administrator", 744, date(2022, 9, 30)),
		exam("100002", "PL-900", "Microsoft Power Platform Fundamentals", 880, date(2018, 6, 3)),
		exam("100002", "PL-300", "Microsoft Power BI Data Analyst", 690, date(2020, 8, 1)),
		exam("100002", "PL-300", "Microsoft Power BI Data Analyst", 775, date(2020, 11, 19)),
		exam("100003", "AZ-900", "Microsoft Azure Fundamentals", 905, date(2020, 9, 2)),
		exam("100003", "AZ-204", "Developing Solutions for Microsoft Azure", 720, date(2021, 5, 7)),
		exam("100004", "AZ-900", "Microsoft Azure Fundamentals", 760, date(2019, 10, 21)),
		exam("100004", "DP-900", "Microsoft Azure Data Fundamentals", 833, date(2020, 1, 15)),
		exam("100005", "MS-900", "Microsoft 365 Fundamentals", 799, date(2019, 5, 9)),
		exam("100005", "SC-900", "Microsoft Security, Compliance, and Identity Fundamentals", 858, date(2021, 7, 23)),
	}
	var agents []certdesk.Agent
	for _, p := range DemoPeople {
		if p.Role.Staff() {
			agents = append(agents, certdesk.Agent{ID: DemoID("agent:" + p.Email), Email: p.Email, Name: p.Name, Role: p.Role, CreatedAt: date(2020, 1, 1)})
		}
	}

	var res SeedResult
	err := s.tx(ctx, func(tx *gorm.DB) error {
		insert := func(rows any) error {
			r := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(rows)
			res.Inserted += int(r.RowsAffected)
			return r.Error
		}
		for _, rows := range []any{&lps, &accounts, &profiles, &certs, &exams, &agents} {
			if err := insert(rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("store: seed: %w", err)
	}
	return res, nil
}

// Empty reports whether the store holds no accounts yet (a new store).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&certdesk.Account{}).Limit(1).Pluck("id", &ids).Error; err != nil {
		return false, fmt.Errorf("store: %w", translate(err))
	}
	return len(ids) == 0, nil
}
