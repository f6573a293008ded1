package simulate

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/domain/catalog"
)

// The simulator refers to the default catalog's programs and groups by ID,
// to send people where a clinician would. newSite checks that each exists,
// so an edited catalog fails loudly instead of simulating nonsense.
const (
	programInpatient   domain.ProgramID = "inpatient-unit"
	programResidential domain.ProgramID = "residential"
	programPHP         domain.ProgramID = "php"
	programIOPMorning  domain.ProgramID = "iop-morning"
	programIOPEvening  domain.ProgramID = "iop-evening"
	programCenter      domain.ProgramID = "group-center"
	programEating      domain.ProgramID = "eating-disorders"

	groupAlumni        domain.GroupID = "alumni-support"
	groupCBTAnxiety    domain.GroupID = "cbt-anxiety"
	groupDBTPractice   domain.GroupID = "dbt-skills-practice"
	groupCopingHealthy domain.GroupID = "coping-skills-healthy-living"
	groupDBTEating     domain.GroupID = "dbt-eating-disorders"
	groupPain          domain.GroupID = "persistent-symptoms-pain"
	groupMatureAdult   domain.GroupID = "mature-adult"
	groupOCD           domain.GroupID = "ocd-maintenance"
	groupDepression    domain.GroupID = "coping-depression"
	groupStress        domain.GroupID = "stress-resilience"
	groupSelfEsteem    domain.GroupID = "womens-self-esteem"
)

// dbtSkillsGroups and processGroups are the interchangeable groups of one
// kind: a clinician offers whichever has a seat or the shortest waitlist.
var (
	dbtSkillsGroups = []domain.GroupID{"dbt-skills-monday-noon", "dbt-skills-monday-afternoon", "dbt-skills-wednesday"}
	processGroups   = []domain.GroupID{"psychodynamic-1", "psychodynamic-2", "psychodynamic-3", "psychodynamic-4", "psychodynamic-5"}
)

// site is one clinic of the simulated health system: a copy of the catalog
// whose IDs carry the site's suffix (none for the first site), so one store
// can hold many clinics' histories for volume tests.
type site struct {
	index    int                           // 0-based
	programs map[domain.ProgramID]*program // by catalog ID
	byID     map[domain.ProgramID]*program // by the site's own ID
	// levelPrograms lists, per level, the programs a person can be placed in.
	levelPrograms map[domain.Level][]*program
	catalog       catalog.Catalog
	base          map[domain.GroupID]domain.GroupID // site group ID → catalog ID
	local         map[domain.GroupID]domain.GroupID // catalog ID → site group ID
}

// program is a program of care at one site with the census the simulator
// keeps of it, which placement decisions read like a bed board.
type program struct {
	id       domain.ProgramID
	base     domain.ProgramID
	level    domain.Level
	capacity int
	census   int
	// groups are the program's own groups that everyone placed here joins
	// (the groups of the levels above outpatient).
	groups []domain.GroupID
}

// siteSuffix is what a site's IDs and names end with.
func siteSuffix(index int) string {
	if index == 0 {
		return ""
	}
	return "-site-" + strconv.Itoa(index+1)
}

// newSite copies the catalog for site index, renaming every ID and
// reference, and indexes it for placement. Module cycles that the catalog
// starts after the simulation's first day are moved back by whole cycles
// (see earliestCycle), so the groups run from the start of the history.
func newSite(cat catalog.Catalog, index int, first domain.Date) (*site, error) {
	suffix := siteSuffix(index)
	s := &site{
		index:         index,
		programs:      map[domain.ProgramID]*program{},
		byID:          map[domain.ProgramID]*program{},
		levelPrograms: map[domain.Level][]*program{},
		base:          map[domain.GroupID]domain.GroupID{},
		local:         map[domain.GroupID]domain.GroupID{},
	}
	nameSuffix := ""
	if index > 0 {
		nameSuffix = " (site " + strconv.Itoa(index+1) + ")"
	}
	for _, p := range cat.Programs {
		id := domain.ProgramID(string(p.ID) + suffix)
		spec := p.ProgramSpec
		spec.Name += nameSuffix
		s.catalog.Programs = append(s.catalog.Programs, catalog.Program{ID: id, ProgramSpec: spec})
		pr := &program{id: id, base: p.ID, level: p.Level, capacity: p.Capacity}
		s.programs[p.ID], s.byID[id] = pr, pr
		s.levelPrograms[p.Level] = append(s.levelPrograms[p.Level], pr)
	}
	for _, g := range cat.Groups {
		id := domain.GroupID(string(g.ID) + suffix)
		s.base[id], s.local[g.ID] = g.ID, id
	}
	for _, g := range cat.Groups {
		spec := g.GroupSpec
		spec.Name += nameSuffix
		spec.Slots = slices.Clone(spec.Slots)
		spec.Modules = slices.Clone(spec.Modules)
		spec.CycleStart = earliestCycle(spec, first)
		if spec.Program != "" {
			spec.Program = domain.ProgramID(string(spec.Program) + suffix)
		}
		pre := make([]domain.Prerequisite, len(spec.Requirements.Prerequisites))
		for i, p := range spec.Requirements.Prerequisites {
			pre[i] = domain.Prerequisite{Group: s.local[p.Group], Module: p.Module}
		}
		if len(pre) > 0 {
			spec.Requirements.Prerequisites = pre
		}
		id := s.local[g.ID]
		s.catalog.Groups = append(s.catalog.Groups, catalog.Group{ID: id, GroupSpec: spec})
		if g.Program != "" && g.Level != domain.Outpatient && g.Status == domain.Running {
			pr := s.programs[g.Program]
			pr.groups = append(pr.groups, id)
		}
	}
	for _, id := range []domain.ProgramID{programInpatient, programResidential, programPHP, programIOPMorning, programIOPEvening, programCenter, programEating} {
		if _, ok := s.programs[id]; !ok {
			return nil, fmt.Errorf("simulate: the catalog has no program %q", id)
		}
	}
	used := append([]domain.GroupID{groupAlumni, groupCBTAnxiety, groupDBTPractice, groupCopingHealthy, groupDBTEating,
		groupPain, groupMatureAdult, groupOCD, groupDepression, groupStress, groupSelfEsteem}, dbtSkillsGroups...)
	for _, id := range append(used, processGroups...) {
		if _, ok := s.local[id]; !ok {
			return nil, fmt.Errorf("simulate: the catalog has no group %q", id)
		}
	}
	return s, nil
}

// program returns the site's copy of a catalog program.
func (s *site) program(base domain.ProgramID) *program { return s.programs[base] }

// group returns the site's copy of a catalog group's ID.
func (s *site) group(base domain.GroupID) domain.GroupID { return s.local[base] }

// place picks the program at level with the most free places, or nil when
// every program of the level is full: a clinician then waits or chooses
// another level.
func (s *site) place(level domain.Level) *program {
	var best *program
	for _, p := range s.levelPrograms[level] {
		if p.base == programEating {
			continue // reached only through its own intake (eating disorders)
		}
		if p.census < p.capacity && (best == nil || p.capacity-p.census > best.capacity-best.census) {
			best = p
		}
	}
	return best
}

// earliestCycle is the start of the group's module cycle moved back by
// whole cycles to on or before day first: the same calendar of modules
// (a history reaching the catalog's dates meets its cycles on the same
// days) for a group that already ran when the history begins.
func earliestCycle(spec domain.GroupSpec, first domain.Date) domain.Date {
	weeks := 0
	for _, m := range spec.Modules {
		weeks += m.Weeks
	}
	start := spec.CycleStart
	if weeks <= 0 || start.IsZero() || !start.After(first) {
		return start
	}
	cycles := (start.DaysSince(first) + weeks*7 - 1) / (weeks * 7)
	return start.AddDays(-cycles * weeks * 7)
}
