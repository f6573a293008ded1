package web

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIDocumentsAccess checks that the document and routeGrants
// agree on which operations are public, that every other operation
// documents the refusals of authentication and authorisation, and that
// every state-changing one documents the CSRF header its browser callers
// need.
func TestOpenAPIDocumentsAccess(t *testing.T) {
	doc := loadOpenAPI(t)
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			name := method + " " + path
			g, ok := routeGrants[strings.ToUpper(method)+" "+path]
			if !ok {
				t.Errorf("%s has no grant", name)
				continue
			}
			documentedPublic := op.Security != nil && len(*op.Security) == 0
			if documentedPublic != g.public {
				t.Errorf("%s: documented public %v, granted public %v", name, documentedPublic, g.public)
			}
			if g.public {
				continue
			}
			for _, status := range []string{"401", "403"} {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s: status %s not documented", name, status)
				}
			}
			if method == "get" {
				continue
			}
			if !slices.ContainsFunc(op.Parameters, func(p openAPIParameter) bool { return p.Ref == "#/components/parameters/CSRFToken" }) {
				t.Errorf("%s: the X-CSRF-Token header is not documented", name)
			}
		}
	}
}
