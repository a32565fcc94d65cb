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

// A message is recorded once however often SendGrid posts it, with its
// attachments and one timeline event; a held one is for agents only; an
// ended case's files are purged after the retention, their rows kept.
func TestConversationMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		cs := openMergeCase(t, s)
		key := "<CAF=abc@mail.gmail.com>"
		m := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: certdesk.Actor("email:chen.wei@outlook.example"),
			FromAddr: "Chen.Wei@Outlook.example", Body: "Here is my ID.", MessageKey: &key}
		pdf := store.NewAttachment{Filename: "id.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.7 …")}
		recorded, err := s.RecordMessage(ctx, &m, []store.NewAttachment{pdf}, "learner_message")
		if err != nil || !recorded || len(m.Attachments) != 1 || m.FromAddr != "chen.wei@outlook.example" {
			t.Fatalf("first post: %v %v %+v", recorded, err, m)
		}
		again := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: m.Author, FromAddr: m.FromAddr, Body: "Here is my ID.", MessageKey: &key}
		recorded, err = s.RecordMessage(ctx, &again, []store.NewAttachment{pdf}, "learner_message")
		if err != nil || recorded || again.ID != m.ID {
			t.Errorf("the same post again: recorded %v, %v, id %s want %s", recorded, err, again.ID, m.ID)
		}
		held := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: certdesk.Actor("email:stranger@example.example"),
			FromAddr: "stranger@example.example", Body: "Let me in", Held: true}
		if _, err := s.RecordMessage(ctx, &held, nil, "learner_message"); err != nil {
			t.Fatal(err)
		}
		evs, _ := s.Events(ctx, cs.ID, 0, 0)
		if n := len(evs); n != 3 || evs[1].Type != "learner_message" || !strings.Contains(strings.ReplaceAll(string(evs[2].Data), " ", ""), `"held":true`) {
			t.Errorf("timeline %v", evs)
		}
		for _, tc := range []struct {
			held bool
			want int
		}{{false, 1}, {true, 2}} {
			got, err := s.Messages(ctx, cs.ID, tc.held)
			if err != nil || len(got) != tc.want || got[0].Attachments[0].Filename != "id.pdf" {
				t.Errorf("messages (held %v): %+v %v", tc.held, got, err)
			}
		}
		a, err := s.Attachment(ctx, m.Attachments[0].ID)
		if err != nil || string(a.Data) != string(pdf.Data) || a.Size != int64(len(pdf.Data)) || len(a.SHA256) != 64 {
			t.Fatalf("attachment %+v %v", a, err)
		}

		// Retention: nothing while the case is open; after it closed and the
		// period passed, the bytes go and the row says when.
		if n, err := s.PurgeAttachments(ctx, time.Now().Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("purge of an open case's files: %d %v", n, err)
		}
		_, _, err = s.ChangeCase(ctx, store.Change{CaseID: cs.ID, Status: certdesk.StatusCompleted, Event: store.Event{Type: "completed"}})
		mustDo(t, err)
		if n, err := s.PurgeAttachments(ctx, time.Now().Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("purge before the period passed: %d %v", n, err)
		}
		if n, err := s.PurgeAttachments(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Errorf("purge after: %d %v", n, err)
		}
		if a, _ := s.Attachment(ctx, a.ID); a.Data != nil || a.PurgedAt == nil || a.Filename != "id.pdf" {
			t.Errorf("purged attachment %+v", a)
		}
	})
}

func TestCannedResponses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Seeded(t, dialect)
		ctx := context.Background()
		c := store.CannedResponse{Name: "ID needed", Body: "Hello {{name}}, please send a photo of your ID for MCID {{mcid}}.", UpdatedBy: sam}
		mustDo(t, s.SaveCannedResponse(ctx, &c))
		dup := store.CannedResponse{Name: "ID needed", Body: "x", UpdatedBy: sam}
		if err := s.SaveCannedResponse(ctx, &dup); certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			t.Errorf("a second one of the same name: %v", err)
		}
		c.Body = "Hello {{name}}, a photo of your ID, please."
		mustDo(t, s.SaveCannedResponse(ctx, &c))
		list, err := s.CannedResponses(ctx)
		if err != nil || len(list) != 1 || list[0].Body != c.Body {
			t.Errorf("list %+v %v", list, err)
		}
		mustDo(t, s.DeleteCannedResponse(ctx, c.ID))
		if err := s.DeleteCannedResponse(ctx, c.ID); certdesk.ErrorCode(err) != certdesk.ENOTFOUND {
			t.Errorf("delete twice: %v", err)
		}
	})
}
