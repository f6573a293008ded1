package web

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/continuum-care/continuum/access"
	"github.com/continuum-care/continuum/domain"
)

// accessError turns the directory's refusal of a field into the API's
// bad request naming that field; other errors pass unchanged.
func accessError(err error) error {
	var in *access.InputError
	if errors.As(err, &in) {
		return badRequest(invalidInput, in.Field, in.Reason)
	}
	return err
}

// pathUser parses the {name} path segment of a user route.
func pathUser(r *http.Request) (string, error) {
	name := r.PathValue("name")
	if err := access.ParseUserName(name); err != nil {
		return "", badRequest(invalidInput, "name", err.Error())
	}
	return name, nil
}

// parsePrograms validates a list of program IDs.
func parsePrograms(p *fieldParser, ids []string) []domain.ProgramID {
	out := make([]domain.ProgramID, 0, len(ids))
	for _, id := range ids {
		out = append(out, parseWith(p, "programs", id, domain.ParseProgramID))
	}
	return out
}

// recordManagement audits a change of a user's access after it is made.
// The user's own stream already records the change and who made it, so
// a failure here is logged rather than reported as a failed change.
func (s *Server) recordManagement(r *http.Request, action access.Action, user string) {
	if err := s.recordAccess(r, action, nil, user); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "auditing a user change failed",
			slog.String("route", routeOf(r)), slog.String("error", err.Error()))
	}
}

// listUsers serves every user with their live credentials (never a secret).
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string][]access.UserInfo{"users": s.users.Users()})
}

// newUserRequest is the body of a user's creation.
type newUserRequest struct {
	Name     string   `json:"name"`
	Role     string   `json:"role"`
	Programs []string `json:"programs"`
	Password string   `json:"password"`
}

// addUser creates a user.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var req newUserRequest
	if err := decodeCommand(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var p fieldParser
	nu := access.NewUser{
		Name:     req.Name,
		Role:     parseWith(&p, "role", req.Role, access.ParseRole),
		Programs: parsePrograms(&p, req.Programs),
		Password: req.Password,
	}
	if p.err != nil {
		writeError(w, r, s.log, p.err)
		return
	}
	id, _ := identityOf(r.Context())
	if err := s.users.AddUser(r.Context(), id.User, nu); err != nil {
		writeError(w, r, s.log, accessError(err))
		return
	}
	s.recordManagement(r, access.UserAdded, nu.Name)
	info, _ := s.users.User(nu.Name)
	writeJSON(w, http.StatusCreated, info)
}

// changeUserRequest changes a user; absent fields stay as they are.
type changeUserRequest struct {
	Role     *string   `json:"role"`
	Programs *[]string `json:"programs"`
	Disabled *bool     `json:"disabled"`
	Password *string   `json:"password"`
}

// changeUser changes a user's role, programs, disabled flag or password.
func (s *Server) changeUser(w http.ResponseWriter, r *http.Request) {
	name, err := pathUser(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req changeUserRequest
	if err := decodeCommand(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var p fieldParser
	var ch access.UserChange
	if req.Role != nil {
		role := parseWith(&p, "role", *req.Role, access.ParseRole)
		ch.Role = &role
	}
	if req.Programs != nil {
		programs := parsePrograms(&p, *req.Programs)
		ch.Programs = &programs
	}
	ch.Disabled = req.Disabled
	if p.err != nil {
		writeError(w, r, s.log, p.err)
		return
	}
	id, _ := identityOf(r.Context())
	if _, ok := s.users.User(name); !ok {
		writeError(w, r, s.log, access.ErrUserNotFound)
		return
	}
	if req.Password != nil {
		if err := s.users.SetPassword(r.Context(), id.User, name, *req.Password); err != nil {
			writeError(w, r, s.log, accessError(err))
			return
		}
	}
	if err := s.users.ChangeUser(r.Context(), id.User, name, ch); err != nil {
		writeError(w, r, s.log, accessError(err))
		return
	}
	s.recordManagement(r, access.UserChanged, name)
	info, _ := s.users.User(name)
	writeJSON(w, http.StatusOK, info)
}

// tokenRequest asks for an API token.
type tokenRequest struct {
	Label   string `json:"label"`
	TTLDays int    `json:"ttlDays"`
}

// tokenResponse carries a new token: the only time it is ever shown.
type tokenResponse struct {
	User       string                `json:"user"`
	Token      string                `json:"token"`
	Credential access.CredentialInfo `json:"credential"`
}

// issueToken mints an API token for a user.
func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	name, err := pathUser(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	var req tokenRequest
	if err := decodeCommand(w, r, &req); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if req.TTLDays < 0 || time.Duration(req.TTLDays)*24*time.Hour > access.MaxTokenTTL {
		writeError(w, r, s.log, badRequest(invalidInput, "ttlDays", "ttlDays is from 1 to 366, or 0 for the default of 90"))
		return
	}
	id, _ := identityOf(r.Context())
	issued, token, err := s.users.IssueToken(r.Context(), id.User, name, req.Label, time.Duration(req.TTLDays)*24*time.Hour)
	if err != nil {
		writeError(w, r, s.log, accessError(err))
		return
	}
	s.recordManagement(r, access.TokenIssued, name)
	out := tokenResponse{User: name, Token: token}
	info, _ := s.users.User(name)
	for _, c := range info.Credentials {
		if c.ID == issued.Credential {
			out.Credential = c
		}
	}
	writeJSON(w, http.StatusCreated, out)
}

// revokeToken ends one of a user's sessions or tokens by its public ID.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	name, err := pathUser(r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	id, _ := identityOf(r.Context())
	if err := s.users.Revoke(r.Context(), id.User, name, r.PathValue("token")); err != nil {
		writeError(w, r, s.log, accessError(err))
		return
	}
	s.recordManagement(r, access.TokenRevoked, name)
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}
