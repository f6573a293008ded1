// Package catalog holds the default catalog of programs and therapy groups
// (domain/catalog/default.json, drawn from the hospital's published group
// program and typical PHP/IOP services) and reads catalogs from JSON. A
// catalog is data: on first start the command layer turns it into
// CreateProgram and CreateGroup commands, and from then on the event log,
// not the file, is the truth.
package catalog

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/continuum-care/continuum/domain"
)

// Program is a catalog entry for a program of care.
type Program struct {
	ID domain.ProgramID `json:"id"`
	domain.ProgramSpec
}

// Group is a catalog entry for a therapy group.
type Group struct {
	ID domain.GroupID `json:"id"`
	domain.GroupSpec
}

// Catalog is a validated set of programs and groups.
type Catalog struct {
	Programs []Program `json:"programs"`
	Groups   []Group   `json:"groups"`
}

// ErrInvalidCatalog is matched (errors.Is) by every error Parse returns.
var ErrInvalidCatalog = errors.New("invalid catalog")

//go:embed default.json
var defaultJSON []byte

// Default returns the built-in catalog. It is parsed on every call so
// callers may modify their copy freely.
func Default() (Catalog, error) { return Parse(bytes.NewReader(defaultJSON)) }

// Parse reads a catalog from JSON, applies defaults (a missing group
// capacity is domain.DefaultGroupCapacity) and validates it: unknown members,
// unknown enum values (levels, modalities...), duplicate IDs, references to
// programs or prerequisite groups that are not in the catalog, and a group
// whose level differs from its program's are all refused, with the entry
// named in the error.
func Parse(r io.Reader) (Catalog, error) {
	var raw struct {
		Programs []json.RawMessage `json:"programs"`
		Groups   []json.RawMessage `json:"groups"`
	}
	if err := decodeStrict(r, &raw); err != nil {
		return Catalog{}, invalid("", err)
	}
	var c Catalog
	programs := map[domain.ProgramID]domain.ProgramSpec{}
	for i, msg := range raw.Programs {
		var p Program
		where := "programs[" + strconv.Itoa(i) + "]"
		if err := decodeStrict(bytes.NewReader(msg), &p); err != nil {
			return Catalog{}, invalid(where, err)
		}
		where = "program " + strconv.Quote(string(p.ID))
		if _, err := domain.ParseProgramID(string(p.ID)); err != nil {
			return Catalog{}, invalid(where, err)
		}
		if _, dup := programs[p.ID]; dup {
			return Catalog{}, invalid(where, errors.New("duplicate program ID"))
		}
		if err := p.Validate(); err != nil {
			return Catalog{}, invalid(where, err)
		}
		programs[p.ID] = p.ProgramSpec
		c.Programs = append(c.Programs, p)
	}
	groups := map[domain.GroupID]domain.GroupSpec{}
	for i, msg := range raw.Groups {
		var g Group
		where := "groups[" + strconv.Itoa(i) + "]"
		if err := decodeStrict(bytes.NewReader(msg), &g); err != nil {
			return Catalog{}, invalid(where, err)
		}
		where = "group " + strconv.Quote(string(g.ID))
		if _, err := domain.ParseGroupID(string(g.ID)); err != nil {
			return Catalog{}, invalid(where, err)
		}
		if _, dup := groups[g.ID]; dup {
			return Catalog{}, invalid(where, errors.New("duplicate group ID"))
		}
		g.GroupSpec = g.WithDefaults()
		if err := g.Validate(); err != nil {
			return Catalog{}, invalid(where, err)
		}
		if g.Program != "" {
			p, ok := programs[g.Program]
			if !ok {
				return Catalog{}, invalid(where, fmt.Errorf("program %q is not in the catalog", g.Program))
			}
			if p.Level != g.Level {
				return Catalog{}, invalid(where, fmt.Errorf("level %s differs from its program's level %s", g.Level, p.Level))
			}
		}
		groups[g.ID] = g.GroupSpec
		c.Groups = append(c.Groups, g)
	}
	// Prerequisites may name groups listed later, so they are checked last.
	for _, g := range c.Groups {
		for _, pre := range g.Requirements.Prerequisites {
			spec, ok := groups[pre.Group]
			if !ok {
				return Catalog{}, invalid("group "+strconv.Quote(string(g.ID)), fmt.Errorf("prerequisite group %q is not in the catalog", pre.Group))
			}
			if pre.Module > len(spec.Modules) {
				return Catalog{}, invalid("group "+strconv.Quote(string(g.ID)), fmt.Errorf("prerequisite group %q has no module %d", pre.Group, pre.Module))
			}
		}
	}
	return c, nil
}

// decodeStrict decodes exactly one JSON value, refusing unknown members so a
// misspelt field is an error instead of a silently ignored setting.
func decodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("unexpected data after the catalog")
	}
	return nil
}

// catalogError names the catalog entry an error is about.
type catalogError struct {
	where string
	err   error
}

// Error names the catalog entry, then the problem.
func (e *catalogError) Error() string {
	if e.where == "" {
		return "catalog: " + e.err.Error()
	}
	return "catalog: " + e.where + ": " + e.err.Error()
}

// Unwrap returns the cause, so callers can still match it.
func (e *catalogError) Unwrap() error { return e.err }

// Is matches ErrInvalidCatalog.
func (e *catalogError) Is(target error) bool { return target == ErrInvalidCatalog }

func invalid(where string, err error) error { return &catalogError{where: where, err: err} }

// Commands returns the commands that create the catalog's programs and
// groups, programs first, all dated at. Deciding them on streams that
// already exist answers domain.ErrConflict, which a first-start loader can
// take as "already loaded".
func (c Catalog) Commands(at time.Time) ([]domain.CreateProgram, []domain.CreateGroup) {
	programs := make([]domain.CreateProgram, 0, len(c.Programs))
	for _, p := range c.Programs {
		programs = append(programs, domain.CreateProgram{Program: p.ID, Spec: p.ProgramSpec, At: at})
	}
	groups := make([]domain.CreateGroup, 0, len(c.Groups))
	for _, g := range c.Groups {
		groups = append(groups, domain.CreateGroup{Group: g.ID, Spec: g.GroupSpec, At: at})
	}
	return programs, groups
}

// Group finds a group by ID.
func (c Catalog) Group(id domain.GroupID) (Group, bool) {
	for _, g := range c.Groups {
		if g.ID == id {
			return g, true
		}
	}
	return Group{}, false
}

// Program finds a program by ID.
func (c Catalog) Program(id domain.ProgramID) (Program, bool) {
	for _, p := range c.Programs {
		if p.ID == id {
			return p, true
		}
	}
	return Program{}, false
}
