package golive_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The people of the first day. Lena's personal account owns two
// certification profiles under one legal name (she registered twice);
// Rosa has not signed in for three years and has lost her Outlook account.
// The staff sign in with work accounts of the program's tenant.
const (
	lenaEmail    = "lena.fox@outlook.example"
	rosaOldEmail = "rosa.quinn@outlook.example"
	rosaNewEmail = "rosa.q@proton.example"
	noraEmail    = "nora.field@contoso.example" // agent, by app role
	samEmail     = "sam.ortiz@contoso.example"  // supervisor, by app role
	glassEmail   = "breakglass@contoso.example" // supervisor, by hand
	maxEmail     = "max.weber@fabrikam.example" // another tenant's user

	lenaFirstMCID  = "310001"
	lenaSecondMCID = "310002"
	rosaMCID       = "310003"
)

// writeWorld writes the learning site's accounts (CSV) and the
// certification system's profiles (NDJSON), as those systems export them
// (docs/import.md), and returns their paths.
func writeWorld(dir string, now time.Time) (accounts, profiles string) {
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	accounts = filepath.Join(dir, "accounts.csv")
	csv := strings.Join([]string{
		"email,kind,display_name,last_sign_in_at,created_at",
		fmt.Sprintf("%s,personal,Lena Fox,%s,2020-01-10T08:00:00Z", lenaEmail, stamp(now.AddDate(0, 0, -6))),
		fmt.Sprintf("%s,personal,Rosa Quinn,%s,2018-03-12T10:00:00Z", rosaOldEmail, stamp(now.AddDate(-3, 0, 0))),
	}, "\n") + "\n"
	profiles = filepath.Join(dir, "profiles.ndjson")
	ndjson := strings.Join([]string{
		`{"mcid":"` + lenaFirstMCID + `","legal_name":"Lena Fox","email":"` + lenaEmail + `","owner_email":"` + lenaEmail + `","status":"active","created_at":"2020-02-01T09:00:00Z",` +
			`"certifications":[{"code":"AZ-900","title":"Microsoft Certified: Azure Fundamentals","earned_at":"2020-05-04T09:00:00Z"}],` +
			`"exams":[{"code":"AZ-900","title":"Microsoft Azure Fundamentals","taken_at":"2020-05-04T09:00:00Z","score":820}]}`,
		`{"mcid":"` + lenaSecondMCID + `","legal_name":"Lena Fox","email":"` + lenaEmail + `","owner_email":"` + lenaEmail + `","status":"active","created_at":"2022-03-01T09:00:00Z",` +
			`"certifications":[{"code":"AZ-104","title":"Microsoft Certified: Azure Administrator Associate","earned_at":"2022-06-10T09:00:00Z"}],` +
			`"exams":[{"code":"AZ-104","title":"Microsoft Azure Administrator","taken_at":"2022-06-10T09:00:00Z","score":760}]}`,
		`{"mcid":"` + rosaMCID + `","legal_name":"Rosa Quinn","email":"` + rosaOldEmail + `","owner_email":"` + rosaOldEmail + `","status":"active","created_at":"2018-03-12T10:05:00Z",` +
			`"certifications":[{"code":"MS-900","title":"Microsoft 365 Certified: Fundamentals","earned_at":"2018-05-09T09:00:00Z"}],` +
			`"exams":[{"code":"MS-900","title":"Microsoft 365 Fundamentals","taken_at":"2018-05-09T09:00:00Z","score":790}]}`,
	}, "\n") + "\n"
	for path, body := range map[string]string{accounts: csv, profiles: ndjson} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			panic(err)
		}
	}
	return accounts, profiles
}
