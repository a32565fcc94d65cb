package certdesk_test

import (
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
)

func TestIDsSortByTimeAndValidate(t *testing.T) {
	var ids []string
	for i := 0; i < 50; i++ {
		ids = append(ids, certdesk.NewID())
		if i%10 == 0 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !certdesk.ValidID(id) {
			t.Fatalf("NewID %q is not ValidID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	if sorted[0] != ids[0] || sorted[len(sorted)-1][:9] < ids[0][:9] {
		t.Fatalf("ids do not sort by creation time: first %s, sorted first %s", ids[0], sorted[0])
	}
	for _, bad := range []string{"", "x", "01M80FWATWERKTEKS57H17KR1E", "01m80fwatwerkteks57h17kr1", "81m80fwatwerkteks57h17kr1e", "01m80fwatwerkteks57h17kr1u", "../../etc/passwd"} {
		if certdesk.ValidID(bad) {
			t.Errorf("ValidID(%q) = true", bad)
		}
	}
}

func TestErrorCodesAndMessages(t *testing.T) {
	wrapped := fmt.Errorf("store: case: %w", &certdesk.Error{Code: certdesk.ENOTFOUND, Message: "no case", Err: errors.New("sql: no rows")})
	if !errors.Is(wrapped, certdesk.ErrNotFound) || errors.Is(wrapped, certdesk.ErrConflict) {
		t.Fatal("errors.Is does not follow codes")
	}
	if certdesk.ErrorCode(wrapped) != certdesk.ENOTFOUND || certdesk.ErrorMessage(wrapped) != "no case" {
		t.Fatalf("code %q message %q", certdesk.ErrorCode(wrapped), certdesk.ErrorMessage(wrapped))
	}
	internal := errors.New("pq: password authentication failed for user admin")
	if certdesk.ErrorCode(internal) != certdesk.EINTERNAL || certdesk.ErrorMessage(internal) == internal.Error() {
		t.Fatal("an internal error's text reaches the caller")
	}
	if certdesk.ErrorCode(nil) != "" {
		t.Fatal("nil has a code")
	}
}

func TestStatusTerminal(t *testing.T) {
	open := map[certdesk.Status]bool{certdesk.StatusOpen: true, certdesk.StatusAwaitingLearner: true, certdesk.StatusAwaitingAgent: true, certdesk.StatusCoolingOff: true}
	for _, s := range certdesk.Statuses {
		if s.Terminal() == open[s] {
			t.Errorf("%s: Terminal() = %v", s, s.Terminal())
		}
	}
}

func TestTokens(t *testing.T) {
	raw, hash := certdesk.NewToken()
	if len(raw) != 43 || len(hash) != 64 {
		t.Fatalf("token %q hash %q", raw, hash)
	}
	if h, ok := certdesk.HashToken(raw); !ok || h != hash {
		t.Fatal("HashToken does not give the stored hash")
	}
	raw2, _ := certdesk.NewToken()
	if raw2 == raw {
		t.Fatal("two tokens are equal")
	}
	for _, bad := range []string{"", raw[:42], raw + "A", raw[:42] + "=", raw[:42] + "+", raw[:42] + "/"} {
		if _, ok := certdesk.HashToken(bad); ok {
			t.Errorf("HashToken(%q) accepted", bad)
		}
	}
}

// No input makes the token parser panic or accept something that does not
// decode to 32 bytes.
func FuzzHashToken(f *testing.F) {
	raw, _ := certdesk.NewToken()
	for _, s := range []string{raw, "", "%%%", raw[:42] + "\u00e9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := certdesk.HashToken(s)
		if ok && (len(s) != 43 || len(h) != 64) {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestNormalizeName(t *testing.T) {
	same := [][2]string{
		{"José  Álvarez-Núñez", "jose alvarez nunez"},
		{" Chen Wei ", "CHEN WEI"},
		{"Zoë O'Brien", "zoe o brien"},
		{"Dara\tMurphy", "dara murphy"},
	}
	for _, p := range same {
		if certdesk.NormalizeName(p[0]) != certdesk.NormalizeName(p[1]) {
			t.Errorf("%q and %q normalize to %q and %q", p[0], p[1], certdesk.NormalizeName(p[0]), certdesk.NormalizeName(p[1]))
		}
	}
	if certdesk.NormalizeName("Chen Wei") == certdesk.NormalizeName("Chen Wu") {
		t.Error("different names compare equal")
	}
}
