package projections

import (
	"encoding/json"
	"fmt"

	"github.com/continuum-care/continuum/domain"
)

// catalog holds the definitions of programs and groups, the reference data
// the census, rosters and journeys render names and capacities from.
type catalog struct {
	programs map[domain.ProgramID]domain.ProgramSpec
	groups   map[domain.GroupID]domain.GroupSpec
	// censusChanges counts the definitions that changed the census board.
	censusChanges uint64
}

func newCatalog() *catalog {
	return &catalog{
		programs: map[domain.ProgramID]domain.ProgramSpec{},
		groups:   map[domain.GroupID]domain.GroupSpec{},
	}
}

func (c *catalog) apply(e domain.Event, changed TopicSet) {
	switch e := e.(type) {
	case domain.ProgramCreated:
		c.setProgram(e.Program, e.ProgramSpec, changed)
	case domain.ProgramChanged:
		c.setProgram(e.Program, e.ProgramSpec, changed)
	case domain.GroupCreated:
		c.setGroup(e.Group, e.GroupSpec, changed)
	case domain.GroupChanged:
		c.setGroup(e.Group, e.GroupSpec, changed)
	}
}

// A definition the views could not render (an enum left unset by a
// malformed event) is not taken: it would make every view of the group and
// every snapshot fail. The previous definition, if any, stays.

func (c *catalog) setProgram(id domain.ProgramID, spec domain.ProgramSpec, changed TopicSet) {
	if _, err := json.Marshal(spec); err != nil {
		return
	}
	c.programs[id] = spec
	c.censusChanges++
	changed.add(Topic{Kind: TopicCensus})
}

func (c *catalog) setGroup(id domain.GroupID, spec domain.GroupSpec, changed TopicSet) {
	spec = spec.WithDefaults()
	if _, err := json.Marshal(spec); err != nil {
		return
	}
	c.groups[id] = spec
	c.censusChanges++
	changed.add(Topic{Kind: TopicCensus})
	changed.add(GroupTopic(id))
}

// groupName is the group's catalog name, or "" for a group never defined.
func (c *catalog) groupName(id domain.GroupID) string { return c.groups[id].Name }

// programName is the program's catalog name, or "" for a program never defined.
func (c *catalog) programName(id domain.ProgramID) string { return c.programs[id].Name }

// The definitions are nested structs owned by the domain package and rare
// (a few dozen), so they are stored as their JSON: a field the domain adds
// later is kept without a change here.
func (c *catalog) encode(e *encoder) error {
	e.count(len(c.programs))
	for _, id := range sortedKeys(c.programs) {
		b, err := json.Marshal(c.programs[id])
		if err != nil {
			return fmt.Errorf("program %s: %w", id, err)
		}
		e.str(string(id))
		e.bytes(b)
	}
	e.count(len(c.groups))
	for _, id := range sortedKeys(c.groups) {
		b, err := json.Marshal(c.groups[id])
		if err != nil {
			return fmt.Errorf("group %s: %w", id, err)
		}
		e.str(string(id))
		e.bytes(b)
	}
	return nil
}

func (c *catalog) decode(d *decoder) {
	for range d.count() {
		id := domain.ProgramID(d.str())
		var spec domain.ProgramSpec
		if b := d.bytes(); d.err == nil {
			if err := json.Unmarshal(b, &spec); err != nil {
				d.fail("program %s: %v", id, err)
			}
		}
		c.programs[id] = spec
	}
	for range d.count() {
		id := domain.GroupID(d.str())
		var spec domain.GroupSpec
		if b := d.bytes(); d.err == nil {
			if err := json.Unmarshal(b, &spec); err != nil {
				d.fail("group %s: %v", id, err)
			}
		}
		c.groups[id] = spec
	}
}
