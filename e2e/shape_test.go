package e2e_test

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/certdesk/certdesk/stacktest"
)

// A case has one JSON shape, the one the OpenAPI document describes: every
// key a case of each kind carries, at the top and under details, is one of
// its schema's properties, and learners never see the workflow's ids.
func TestCaseJSONIsTheDocumentedShape(t *testing.T) {
	raw, err := os.ReadFile("../api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Required   []string                   `json:"required"`
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc.Components.Schemas
	s := stacktest.Start(t, stacktest.Options{})
	alice := s.Login("alice.agent@certdesk.example")
	ana := s.Login("ana.silva@outlook.example")
	chen := s.Login(chenEmail)

	var connect, merge map[string]any
	s.Do("POST", "/api/v1/connect-requests", ana, nil).Decode(t, &connect)
	s.Do("POST", "/api/v1/merge-requests", chen, map[string]any{"profile_ids": []string{p3, p4}}).Decode(t, &merge)
	recovery := verifiedRequest(t, s)
	cases := map[string]string{"ConnectDetails": connect["id"].(string), "MergeDetails": merge["id"].(string), "RecoveryDetails": recovery}
	for schema, id := range cases {
		var c map[string]any
		if r := s.Do("GET", "/api/v1/cases/"+id, alice, nil); r.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", id, r.Code)
		} else {
			r.Decode(t, &c)
		}
		for _, k := range schemas["CaseCommon"].Required {
			if _, ok := c[k]; !ok {
				t.Errorf("%s: a case lacks the required %q", schema, k)
			}
		}
		for k := range c {
			if _, ok := schemas["CaseCommon"].Properties[k]; !ok {
				t.Errorf("%s: %q at the top level is not in the document", schema, k)
			}
		}
		details, ok := c["details"].(map[string]any)
		if !ok {
			t.Fatalf("%s: details %v", schema, c["details"])
		}
		for k := range details {
			if _, ok := schemas[schema].Properties[k]; !ok {
				t.Errorf("%s: details.%s is not in the document", schema, k)
			}
		}
	}
	var own map[string]any
	s.Do("GET", "/api/v1/cases/"+connect["id"].(string), ana, nil).Decode(t, &own)
	if _, ok := own["workflow_id"]; ok || own["id"] != connect["id"] {
		t.Errorf("the learner's own case shows its workflow: %v", own)
	}
}
