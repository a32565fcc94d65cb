package store_test

import (
	"context"
	"testing"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

// A person's own key lives in the store, sealed: it survives a restart
// (a new process, nothing cached), a rotation of the payload key (the old
// key kept to open it), and its resealing, after which the old payload
// key retires. One address has one live key, however many ask at once.
func TestSubjectKeysSurviveARestartAndARotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := storetest.URL(t, dialect)
		open := func() *store.Store {
			s, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			return s
		}
		k1, k2 := codec.NewKey("k1"), codec.NewKey("k2")
		first := open()
		cd, _ := codec.Parse(k1)
		cd.UseKeyStore(first)
		ids := make(chan string, 8)
		for range 8 {
			go func() {
				id, err := first.SubjectKeyID(ctx, "Dara.M@Proton.example", cd.NewSubjectKey)
				if err != nil {
					t.Error(err)
				}
				ids <- id
			}()
		}
		id := <-ids
		for range 7 {
			if other := <-ids; other != id {
				t.Fatalf("one address, two keys: %s and %s", id, other)
			}
		}
		dc := cd.DataConverter().(workflow.ContextAware).WithContext(codec.WithSubject(ctx, id))
		p, err := dc.ToPayload(map[string]string{"legal_name": "Dara Murphy"})
		if err != nil {
			t.Fatal(err)
		}
		first.Close()

		read := func(s *store.Store, keys string) error {
			c, err := codec.Parse(keys)
			if err != nil {
				t.Fatal(err)
			}
			c.UseKeyStore(s)
			var got map[string]string
			if err := c.DataConverter().FromPayload(p, &got); err != nil {
				return err
			}
			if got["legal_name"] != "Dara Murphy" {
				t.Fatalf("read %v", got)
			}
			return nil
		}
		restarted := open()
		defer restarted.Close()
		if err := read(restarted, k2+","+k1); err != nil {
			t.Fatalf("after a restart and a rotation: %v", err)
		}
		if err := read(restarted, k2); err == nil {
			t.Fatal("the key opened without the payload key that sealed it")
		}
		rotated, _ := codec.Parse(k2 + "," + k1)
		n, err := restarted.ResealSubjectKeys(ctx, "k2", rotated.Reseal)
		if err != nil || n != 1 {
			t.Fatalf("resealed %d: %v", n, err)
		}
		if err := read(restarted, k2); err != nil {
			t.Fatalf("resealed, with k1 retired: %v", err)
		}
		if n, _ := restarted.ResealSubjectKeys(ctx, "k2", rotated.Reseal); n != 0 {
			t.Errorf("resealed again: %d", n)
		}
	})
}
