package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
)

// openAPIDoc is the part of the document the tests read.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// openAPIParameter is a parameter or a reference to one.
type openAPIParameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

// openAPIOperation is the part of an operation the tests read.
type openAPIOperation struct {
	Parameters  []openAPIParameter         `json:"parameters"`
	RequestBody *json.RawMessage           `json:"requestBody"`
	Responses   map[string]json.RawMessage `json:"responses"`
	Tags        []string                   `json:"tags"`
	// Security is absent for the document's default (a credential) and
	// empty for a public operation.
	Security *[]map[string][]string `json:"security"`
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("openapi version %q, want 3.0.x", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRoutes checks that every registered route is
// documented and every documented operation is registered.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	st := newStack(t)
	doc := loadOpenAPI(t)
	registered := map[string]bool{}
	for _, rt := range st.server.routes(nil) {
		registered[strings.ToLower(rt.method)+" "+rt.pattern] = true
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[method+" "+path] = true
		}
	}
	var missing, extra []string
	for r := range registered {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !registered[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json: %v", missing)
	}
	if len(extra) > 0 {
		t.Errorf("openapi.json documents routes that do not exist: %v", extra)
	}
}

// TestOpenAPICommandsDocumentTheirContract checks that every command
// documents its body, the Idempotency-Key header and its error statuses.
func TestOpenAPICommandsDocumentTheirContract(t *testing.T) {
	doc := loadOpenAPI(t)
	for path, ops := range doc.Paths {
		for method, raw := range ops {
			if method != "post" && method != "put" {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
			// Signing in, user management and erasure are not domain
			// commands; TestOpenAPIDocumentsAccess checks their contract.
			if !slices.Contains(op.Tags, "commands") {
				continue
			}
			if op.RequestBody == nil {
				t.Errorf("%s %s: no request body", method, path)
			}
			hasKey := false
			for _, p := range op.Parameters {
				hasKey = hasKey || p.Ref == "#/components/parameters/IdempotencyKey"
				if p.In == "path" && !strings.Contains(path, "{"+p.Name+"}") {
					t.Errorf("%s %s: path parameter %s is not in the path", method, path, p.Name)
				}
			}
			if !hasKey {
				t.Errorf("%s %s: Idempotency-Key not documented", method, path)
			}
			for _, status := range []string{"400", "404", "409", "413", "415", "503"} {
				if _, ok := op.Responses[status]; !ok {
					t.Errorf("%s %s: status %s not documented", method, path, status)
				}
			}
			if _, ok := op.Responses["200"]; !ok {
				if _, ok := op.Responses["201"]; !ok {
					t.Errorf("%s %s: no success status documented", method, path)
				}
			}
		}
	}
}

// TestOpenAPIReferencesResolve checks every $ref names a component.
func TestOpenAPIReferencesResolve(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "$ref" {
					ref, _ := child.(string)
					if !resolves(doc, ref) {
						t.Errorf("unresolved $ref %q", ref)
					}
					continue
				}
				walk(child)
			}
		case []any:
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(doc)
}

// resolves follows a local JSON pointer reference ("#/a/b").
func resolves(doc map[string]any, ref string) bool {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return false
	}
	var cur any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

func TestOpenAPIIsServed(t *testing.T) {
	st := newStack(t)
	r := st.get(t, "/api/openapi.json")
	if r.status != http.StatusOK || !bytes.Equal(r.raw, openAPI) {
		t.Fatalf("status %d, %d bytes; want the embedded document", r.status, len(r.raw))
	}
}
