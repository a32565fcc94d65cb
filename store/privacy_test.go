package store_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// Chen's copy: his accounts, both his profiles with their certifications
// and exams, his merge case with its timeline and his message and its file,
// and nothing of anyone else; an address certdesk does not know gets the
// same shape, empty.
func TestPersonalData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorSystem, WorkflowID: "merge-export",
			ProfileIDs: []string{store.DemoID("profile:100003"), store.DemoID("profile:100004")}}
		if _, err := s.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorSystem, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		other := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "recovery-export",
			LearnerEmail: "dara.m@proton.example", LearnerName: "Dara Murphy"}
		if _, err := s.OpenCase(ctx, &other, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		key := "<export-1@outlook.example>"
		m := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: certdesk.EmailActor("chen.wei@outlook.example"),
			FromAddr: "chen.wei@outlook.example", Body: "Both are me.", MessageKey: &key}
		file := []byte("%PDF-1.7 chen")
		if _, err := s.RecordMessage(ctx, &m, []store.NewAttachment{{Filename: "id.pdf", ContentType: "application/pdf", Data: file}}, certdesk.EventLearnerMessage); err != nil {
			t.Fatal(err)
		}
		got, err := s.PersonalData(ctx, "Chen.Wei@Outlook.example")
		if err != nil {
			t.Fatal(err)
		}
		col := func(rows []store.Row, c string) []string {
			var out []string
			for _, r := range rows {
				out = append(out, strings.TrimSpace(toString(r[c])))
			}
			return out
		}
		if got.Email != "chen.wei@outlook.example" || !contains(col(got.Accounts, "email"), "chen.wei@outlook.example") {
			t.Errorf("accounts %v", col(got.Accounts, "email"))
		}
		if mcids := col(got.CertificationProfiles, "mcid"); len(mcids) != 2 || !contains(mcids, "100003") || !contains(mcids, "100004") {
			t.Errorf("profiles %v, want 100003 and 100004", mcids)
		}
		if len(got.Certifications) == 0 || len(got.Exams) == 0 {
			t.Errorf("certifications %d, exams %d", len(got.Certifications), len(got.Exams))
		}
		if ids := col(got.Cases, "id"); len(ids) != 1 || ids[0] != cs.ID || len(got.CaseEvents) == 0 {
			t.Errorf("cases %v, %d events", ids, len(got.CaseEvents))
		}
		if len(got.Messages) != 1 || len(got.Attachments) != 1 || toString(got.Attachments[0]["data"]) != base64.StdEncoding.EncodeToString(file) {
			t.Errorf("messages %d, attachments %+v", len(got.Messages), got.Attachments)
		}
		b, _ := json.Marshal(got)
		for _, other := range []string{"Ana Silva", "ana.silva@outlook.example", "Dara Murphy", "100001", "100005"} {
			if strings.Contains(string(b), other) {
				t.Errorf("Chen's copy holds %q", other)
			}
		}

		nobody, err := s.PersonalData(ctx, "nobody@nowhere.example")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = json.Marshal(nobody)
		if strings.Contains(string(b), "null") || len(nobody.Accounts)+len(nobody.Cases)+len(nobody.CertificationProfiles) != 0 {
			t.Errorf("an unknown address's copy: %s", b)
		}
	})
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
