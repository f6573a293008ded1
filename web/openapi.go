package web

import (
	_ "embed"
	"net/http"
)

// openAPI is the hand-written OpenAPI 3.0 description of every route; a
// test keeps it and the route table in step.
//
//go:embed openapi.json
var openAPI []byte

// serveOpenAPI serves the API's description.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPI)
}
