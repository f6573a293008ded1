package web

import (
	"slices"

	"github.com/continuum-care/continuum/access"
)

// grant is who may call a route.
type grant struct {
	// public routes need no sign-in: liveness, readiness, the API's
	// description, the metrics (which carry no personal data) and signing in.
	public bool
	roles  []access.Role
	// export marks a route whose answer leaves the server as a report or
	// a copy; every call is audited before it is served.
	export bool
}

// allows reports whether role may call the route.
func (g grant) allows(role access.Role) bool { return slices.Contains(g.roles, role) }

// The grants routes share.
var (
	public = grant{public: true}
	// signedIn is any role: the session, the websocket (whose topics
	// are granted one by one, see topicGate), the census aggregates.
	signedIn   = grant{roles: access.Roles()}
	clinicians = grant{roles: []access.Role{access.Clinician}}
	admins     = grant{roles: []access.Role{access.Admin}}
	// reports are the de-identified outcomes: figures for the director,
	// pseudonymous rows for the analyst.
	reports = grant{roles: []access.Role{access.Director, access.Analyst}, export: true}
)

// routeGrants is the one table saying who may call which route, keyed by
// the route's pattern as the mux knows it. A route missing here makes New
// fail, so nothing is ever served by default. Within a clinician's routes,
// a user limited to programs is further limited to the people and groups
// of those programs (see scope).
var routeGrants = map[string]grant{
	// Clinical commands and the patient data behind them.
	"POST /api/patients":                              clinicians,
	"POST /api/patients/{id}/intake":                  clinicians,
	"POST /api/patients/{id}/admit":                   clinicians,
	"POST /api/patients/{id}/readmit":                 clinicians,
	"POST /api/patients/{id}/measures":                clinicians,
	"POST /api/patients/{id}/step-down":               clinicians,
	"POST /api/patients/{id}/step-up":                 clinicians,
	"POST /api/patients/{id}/discharge":               clinicians,
	"POST /api/groups/{id}/join":                      clinicians,
	"POST /api/groups/{id}/leave":                     clinicians,
	"POST /api/groups/{id}/sessions":                  clinicians,
	"POST /api/groups/{id}/sessions/{sid}/attendance": clinicians,
	"POST /api/groups/{id}/modules/{n}/complete":      clinicians,
	"POST /api/groups/{id}/complete":                  clinicians,
	"GET /api/patients":                               clinicians,
	"GET /api/patients/{id}":                          clinicians,
	"GET /api/groups/{id}":                            clinicians,

	// Aggregates, the catalog's choices and the live views.
	"GET /api/census":   signedIn,
	"GET /api/groups":   signedIn,
	"GET /api/programs": signedIn,
	"GET /api/catalog":  signedIn,
	"GET /ws":           signedIn,
	"GET /api/outcomes": reports,

	// The catalog, users, the audit, erasure and backups are the admin's.
	"POST /api/groups":                        admins,
	"PUT /api/groups/{id}":                    admins,
	"POST /api/programs":                      admins,
	"PUT /api/programs/{id}":                  admins,
	"GET /api/users":                          admins,
	"POST /api/users":                         admins,
	"PUT /api/users/{name}":                   admins,
	"POST /api/users/{name}/tokens":           admins,
	"DELETE /api/users/{name}/tokens/{token}": admins,
	"GET /api/audit":                          admins,
	"POST /api/patients/{id}/erase":           admins,
	"GET " + BackupPath:                       {roles: []access.Role{access.Admin}, export: true},

	// Signing in and out, and what needs no sign-in.
	"POST /api/auth/signin":  public,
	"POST /api/auth/signout": signedIn,
	"GET /api/auth/session":  signedIn,
	"GET /api/openapi.json":  public,
	"GET /healthz":           public,
	"GET /readyz":            public,
	"GET " + metricsPath:     public,
}
