package store

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"time"

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
	// Accounts and profiles come in through the import, as a source's
	// records would: the seed exercises that path every time it runs. The
	// import is told the demo's fixed ids, the learning profiles and
	// statuses (which records do not carry), and to leave rows that exist
	// as they are.
	seed := &seedRows{id: DemoID, accounts: map[string]seedAccount{}}
	var accounts []certdesk.AccountRecord
	account := func(email, kind, name, lp string, last time.Time, status string, created time.Time) {
		accounts = append(accounts, certdesk.AccountRecord{Email: email, Kind: kind, DisplayName: name, LastSignInAt: &last, CreatedAt: &created})
		a := seedAccount{status: status}
		if lp != "" {
			a.learningProfileID = ptr(DemoID("lp:" + lp))
		}
		seed.accounts[email] = a
	}
	account("ana.silva@outlook.example", certdesk.AccountPersonal, "Ana Silva", "ana", recent, certdesk.AccountActive, date(2021, 3, 1))
	account("ben.okafor@contoso.example", certdesk.AccountWork, "Ben Okafor", "ben", recent, certdesk.AccountActive, date(2022, 1, 10))
	account("ben.okafor@hotmail.example", certdesk.AccountPersonal, "Ben Okafor", "", recent.Add(-40*day), certdesk.AccountActive, date(2018, 4, 2))
	account("chen.wei@outlook.example", certdesk.AccountPersonal, "Chen Wei", "chen", recent, certdesk.AccountActive, date(2020, 6, 5))
	account("c.wei@gmail.example", certdesk.AccountPersonal, "Chen Wei", "", recent.Add(-200*day), certdesk.AccountActive, date(2019, 8, 14))
	account("dara.murphy@outlook.example", certdesk.AccountPersonal, "Dara Murphy", "dara", threeYears, certdesk.AccountInactive, date(2019, 2, 20))

	var profiles []certdesk.ProfileRecord
	byMCID := map[string]int{}
	profile := func(mcid, name, email, owner string, created time.Time) {
		byMCID[mcid] = len(profiles)
		profiles = append(profiles, certdesk.ProfileRecord{MCID: mcid, LegalName: name, Email: email, OwnerEmail: owner,
			Status: certdesk.ProfileActive, CreatedAt: &created, Certifications: []certdesk.CertificationRecord{}, Exams: []certdesk.ExamRecord{}})
	}
	profile("100001", "Ana Silva", "ana.silva@outlook.example", "ana.silva@outlook.example", date(2021, 2, 1))
	profile("100002", "Ben Okafor", "ben.okafor@hotmail.example", "ben.okafor@hotmail.example", date(2018, 4, 2))
	profile("100003", "Chen Wei", "chen.wei@outlook.example", "chen.wei@outlook.example", date(2020, 6, 1))
	profile("100004", "Chen Wei", "chen.wei@outlook.example", "c.wei@gmail.example", date(2019, 8, 14))
	profile("100005", "Dara Murphy", "dara.murphy@outlook.example", "dara.murphy@outlook.example", date(2019, 2, 20))
	cert := func(mcid, code, title string, earned time.Time) {
		exp := earned.AddDate(3, 0, 0)
		p := &profiles[byMCID[mcid]]
		p.Certifications = append(p.Certifications, certdesk.CertificationRecord{Code: code, Title: title, EarnedAt: earned, ExpiresAt: &exp})
	}
	cert("100001", "AZ-900", "Microsoft Certified: Azure Fundamentals", date(2021, 4, 12))
	cert("100001", "AZ-104", "Microsoft Certified: Azure Administrator Associate", date(2022, 9, 30))
	cert("100002", "PL-900", "Microsoft Certified: Power Platform Fundamentals", date(2018, 6, 3))
	cert("100002", "PL-300", "Microsoft Certified: Power BI Data Analyst Associate", date(2020, 11, 19))
	cert("100003", "AZ-204", "Microsoft Certified: Azure Developer Associate", date(2021, 5, 7))
	cert("100003", "AZ-900", "Microsoft Certified: Azure Fundamentals", date(2020, 9, 2))
	cert("100004", "AZ-900", "Microsoft Certified: Azure Fundamentals", date(2019, 10, 21))
	cert("100004", "DP-900", "Microsoft Certified: Azure Data Fundamentals", date(2020, 1, 15))
	cert("100005", "MS-900", "Microsoft 365 Certified: Fundamentals", date(2019, 5, 9))
	cert("100005", "SC-900", "Microsoft Certified: Security, Compliance, and Identity Fundamentals", date(2021, 7, 23))
	exam := func(mcid, code, title string, score int, taken time.Time) {
		p := &profiles[byMCID[mcid]]
		p.Exams = append(p.Exams, certdesk.ExamRecord{Code: code, Title: title, Score: &score, TakenAt: taken})
	}
	exam("100001", "AZ-900", "Microsoft Azure Fundamentals", 812, date(2021, 4, 12))
	exam("100001", "AZ-104", "Microsoft Azure Administrator", 744, date(2022, 9, 30))
	exam("100002", "PL-900", "Microsoft Power Platform Fundamentals", 880, date(2018, 6, 3))
	// Ben's PL-300 retake (775, November 2020) shares the id of his first
	// try, which is named by code and year: the demo world has always held
	// the first try only.
	exam("100002", "PL-300", "Microsoft Power BI Data Analyst", 690, date(2020, 8, 1))
	exam("100003", "AZ-900", "Microsoft Azure Fundamentals", 905, date(2020, 9, 2))
	exam("100003", "AZ-204", "Developing Solutions for Microsoft Azure", 720, date(2021, 5, 7))
	exam("100004", "AZ-900", "Microsoft Azure Fundamentals", 760, date(2019, 10, 21))
	exam("100004", "DP-900", "Microsoft Azure Data Fundamentals", 833, date(2020, 1, 15))
	exam("100005", "MS-900", "Microsoft 365 Fundamentals", 799, date(2019, 5, 9))
	exam("100005", "SC-900", "Microsoft Security, Compliance, and Identity Fundamentals", 858, date(2021, 7, 23))
	var agents []certdesk.Agent
	for _, p := range DemoPeople {
		if p.Role.Staff() {
			agents = append(agents, certdesk.Agent{ID: DemoID("agent:" + p.Email), Email: p.Email, Name: p.Name, Role: p.Role, Source: certdesk.StaffByHand, CreatedAt: date(2020, 1, 1)})
		}
	}

	var res SeedResult
	insert := func(rows any) error {
		r := s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(rows)
		res.Inserted += int(r.RowsAffected)
		return translate(r.Error)
	}
	opts := ImportOptions{seed: seed, keepExisting: true}
	steps := []func() error{
		func() error { return insert(&lps) },
		func() error {
			rep, err := importRecords(ctx, s, accountKind, records(accounts), opts)
			res.Inserted += rep.Inserted
			return refusedErr(rep, err)
		},
		func() error {
			rep, err := importRecords(ctx, s, profileKind, records(profiles), opts)
			res.Inserted += rep.Inserted + rep.Certifications + rep.Exams
			return refusedErr(rep, err)
		},
		func() error { return insert(&agents) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return res, fmt.Errorf("store: seed: %w", err)
		}
	}
	return res, nil
}

// refusedErr makes a refused demo record an error: the demo world is
// certdesk's own data.
func refusedErr(rep ImportReport, err error) error {
	if err == nil && rep.Refused > 0 {
		return fmt.Errorf("%d demo records refused", rep.Refused)
	}
	return err
}

// sliceSource yields records from a slice, numbered from line 1.
type sliceSource[T any] struct {
	recs []T
	next int
}

func records[T any](recs []T) *sliceSource[T] { return &sliceSource[T]{recs: recs} }

func (s *sliceSource[T]) Next() (int, T, error) {
	var zero T
	if s.next == len(s.recs) {
		return 0, zero, io.EOF
	}
	s.next++
	return s.next, s.recs[s.next-1], nil
}

// Empty reports whether the store holds no accounts yet (a new store).
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&certdesk.Account{}).Limit(1).Pluck("id", &ids).Error; err != nil {
		return false, fmt.Errorf("store: %w", translate(err))
	}
	return len(ids) == 0, nil
}
