package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/certdesk/certdesk/stacktest"
)

// Temporal holds no plaintext names or emails: every payload is encrypted
// by the codec. The codec endpoint the Temporal Web UI calls shows them to
// agents only.
func TestHistoriesHoldNoPersonalDataAndTheCodecServesOnlyAgents(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{})
	caseID := verifiedRequest(t, s) // Dara's recovery: names and emails in its input and signals
	cs, err := s.Store.Case(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	var hist historypb.History
	it := s.Client.GetWorkflowHistory(context.Background(), cs.WorkflowID, cs.RunID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	input := hist.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
	var payloads [][]byte
	collectPayloads(hist.ProtoReflect(), &payloads)
	if len(payloads) < 5 {
		t.Fatalf("found only %d payloads in the history", len(payloads))
	}
	raw, _ := protojson.Marshal(&hist)
	payloads = append(payloads, raw)
	for _, secret := range []string{"Dara Murphy", "dara.m@proton.example", "dara.murphy@outlook.example", "Outlook account was closed"} {
		for _, data := range payloads {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("the workflow history holds %q in the clear", secret)
			}
		}
	}

	body, _ := protojson.Marshal(input)
	decode := func(token string) stacktest.Response {
		return s.Do("POST", "/codec/decode", token, string(body))
	}
	if r := decode(""); r.Code != http.StatusUnauthorized {
		t.Errorf("anonymous decode = %d, want 401", r.Code)
	}
	if r := decode(s.Login("ana.silva@outlook.example")); r.Code != http.StatusForbidden {
		t.Errorf("a learner's decode = %d, want 403", r.Code)
	}
	r := decode(s.Login("alice.agent@certdesk.example"))
	if r.Code != http.StatusOK {
		t.Fatalf("an agent's decode = %d %s", r.Code, r.Body)
	}
	var out struct {
		Payloads []struct {
			Data []byte `json:"data"`
		} `json:"payloads"`
	}
	if err := json.Unmarshal(r.Body, &out); err != nil || len(out.Payloads) == 0 {
		t.Fatalf("decoded body %s: %v", r.Body, err)
	}
	if !strings.Contains(string(out.Payloads[0].Data), "Dara Murphy") {
		t.Fatalf("the agent's decode does not show the claim: %s", out.Payloads[0].Data)
	}
}

// collectPayloads gathers the data of every Payload in a message, however
// deep (inputs, results, signals, markers, memos).
func collectPayloads(m protoreflect.Message, out *[][]byte) {
	if m.Descriptor().FullName() == "temporal.api.common.v1.Payload" {
		*out = append(*out, m.Get(m.Descriptor().Fields().ByName("data")).Bytes())
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				collectPayloads(v.List().Get(i).Message(), out)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				collectPayloads(mv.Message(), out)
				return true
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			collectPayloads(v.Message(), out)
		}
		return true
	})
}

// A failure's message and stack trace are encoded like the payloads: an
// activity that fails with an address in its error, and the workflow that
// fails with it, leave no plaintext in the history.
func TestFailuresAreEncodedToo(t *testing.T) {
	const secret = "dara.m@proton.example"
	failing := func(ctx context.Context) error { return errors.New("could not reach " + secret) }
	s := stacktest.Start(t, stacktest.Options{Register: func(r sdkworker.Registry) {
		r.RegisterActivityWithOptions(failing, activity.RegisterOptions{Name: "failWithAddress"})
		r.RegisterWorkflowWithOptions(func(ctx workflow.Context) error {
			ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 5 * time.Second,
				RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 1}})
			return workflow.ExecuteActivity(ctx, "failWithAddress").Get(ctx, nil)
		}, workflow.RegisterOptions{Name: "failsWithAddress"})
	}})
	ctx := context.Background()
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: s.Config.TaskQueue}, "failsWithAddress")
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Get(ctx, nil); err == nil || !strings.Contains(err.Error(), secret) {
		t.Fatalf("the workflow's error, decoded by the client: %v", err) // the client reads it back
	}
	var hist historypb.History
	it := s.Client.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	raw, _ := protojson.Marshal(&hist)
	if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("could not reach")) {
		t.Errorf("the history holds the failure in the clear:\n%s", raw)
	}
}
