package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// A case past its retention keeps its shape and loses its personal data:
// subject, learner, details, events' data, the conversation and its files,
// the merge's snapshot; a case still open, or ended within the retention,
// is untouched; a second run redacts nothing more.
func TestRedactEndedCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		p3, p4 := store.DemoID("profile:100003"), store.DemoID("profile:100004")
		merge := completedMerge(t, s, p4, p3)
		key := "<redact-1@outlook.example>"
		m := store.Message{CaseID: merge.ID, Direction: store.MessageIn, Author: certdesk.EmailActor("chen.wei@outlook.example"),
			FromAddr: "chen.wei@outlook.example", Body: "My passport number is X123.", MessageKey: &key}
		if _, err := s.RecordMessage(ctx, &m, []store.NewAttachment{{Filename: "passport.pdf", ContentType: "application/pdf", Data: []byte("%PDF chen")}}, certdesk.EventLearnerMessage); err != nil {
			t.Fatal(err)
		}
		open := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "recovery-open",
			LearnerEmail: "dara.m@proton.example", LearnerName: "Dara Murphy", Subject: "Dara Murphy · recovery"}
		if _, err := s.OpenCase(ctx, &open, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
			t.Fatal(err)
		}
		before, err := s.Case(ctx, merge.ID)
		mustDo(t, err)

		if n, err := s.RedactEndedCases(ctx, time.Now().Add(-time.Hour), 100); err != nil || n != 0 {
			t.Fatalf("a case ended within the retention: %d %v", n, err)
		}
		if n, err := s.RedactEndedCases(ctx, time.Now().Add(time.Hour), 100); err != nil || n != 1 {
			t.Fatalf("redacted %d (%v), want the merge", n, err)
		}
		got, err := s.Case(ctx, merge.ID)
		mustDo(t, err)
		if got.Subject != store.Redacted || got.LearnerName != store.Redacted || got.LearnerEmail != "" || strings.Contains(string(got.Details), "Chen") ||
			got.Kind != before.Kind || got.Status != before.Status || got.Resolution != before.Resolution || !got.CreatedAt.Equal(before.CreatedAt) {
			t.Errorf("the redacted case: %+v", got)
		}
		evs, err := s.Events(ctx, merge.ID, 0, 0)
		mustDo(t, err)
		if len(evs) < 3 {
			t.Fatalf("%d events left, want every one", len(evs))
		}
		for _, ev := range evs {
			if string(ev.Data) != "{}" || strings.Contains(string(ev.Actor), "@") {
				t.Errorf("event %s: actor %s data %s", ev.Type, ev.Actor, ev.Data)
			}
		}
		ms, err := s.Messages(ctx, merge.ID, true)
		mustDo(t, err)
		if len(ms) != 1 || ms[0].Body != store.Redacted || ms[0].FromAddr != "" || ms[0].Attachments[0].Filename != store.Redacted || ms[0].Attachments[0].PurgedAt == nil {
			t.Errorf("the conversation: %+v", ms)
		}
		if a, err := s.Attachment(ctx, ms[0].Attachments[0].ID); err != nil || a.Data != nil {
			t.Errorf("the file: %v %v", a.Data, err)
		}
		var snaps int64
		mustDo(t, s.SQL().QueryRow(`SELECT count(*) FROM merge_snapshots WHERE case_id = `+placeholder(dialect), merge.ID).Scan(&snaps))
		if snaps != 0 {
			t.Errorf("%d merge snapshots left", snaps)
		}
		if still, err := s.Case(ctx, open.ID); err != nil || still.LearnerName != "Dara Murphy" {
			t.Errorf("the open case: %+v %v", still, err)
		}
		if n, err := s.RedactEndedCases(ctx, time.Now().Add(time.Hour), 100); err != nil || n != 0 {
			t.Errorf("a second run redacted %d (%v)", n, err)
		}
		copyOf, err := s.PersonalData(ctx, "chen.wei@outlook.example")
		mustDo(t, err)
		for _, r := range copyOf.Messages {
			if strings.Contains(toString(r["body"]), "passport") {
				t.Errorf("Chen's copy still holds the redacted message")
			}
		}
	})
}

func placeholder(dialect string) string {
	if dialect == "postgres" {
		return "$1"
	}
	return "?"
}
