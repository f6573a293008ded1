package catalog

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/continuum-care/continuum/domain"
)

func TestDefaultCatalog(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	levels := map[domain.Level]bool{}
	for _, p := range c.Programs {
		levels[p.Level] = true
	}
	for _, l := range domain.Levels() {
		if !levels[l] {
			t.Errorf("no program at level %s", l)
		}
	}
	psychodynamic := 0
	for _, g := range c.Groups {
		if strings.HasPrefix(string(g.ID), "psychodynamic-") {
			psychodynamic++
			if g.Capacity != 8 || g.Entry != domain.EntryAnyTime || g.MinCommitmentWeeks < 26 {
				t.Errorf("%s: capacity %d, entry %s, commitment %d weeks; want 8, any_time, ≥ 26", g.ID, g.Capacity, g.Entry, g.MinCommitmentWeeks)
			}
		}
	}
	if psychodynamic != 5 {
		t.Errorf("%d psychodynamic groups, want 5", psychodynamic)
	}

	tests := []struct {
		name  string
		group domain.GroupID
		check func(t *testing.T, g Group)
	}{
		{"CBT for anxiety has two six-week modules and module-start entry", "cbt-anxiety", func(t *testing.T, g Group) {
			if len(g.Modules) != 2 || g.Modules[0].Weeks != 6 || g.Modules[1].Weeks != 6 || g.Entry != domain.EntryModuleStart {
				t.Errorf("modules %+v entry %s", g.Modules, g.Entry)
			}
			if g.Requirements.MinAge != 18 || !g.Requirements.PrimaryCare {
				t.Errorf("requirements %+v", g.Requirements)
			}
			want := domain.Slot{Day: domain.Tuesday, Start: 17*60 + 30, End: 18*60 + 45}
			if len(g.Slots) != 1 || g.Slots[0] != want {
				t.Errorf("slots %+v, want %+v", g.Slots, want)
			}
		}},
		{"skills-practice DBT needs completed DBT skills and individual therapy", "dbt-skills-practice", func(t *testing.T, g Group) {
			if len(g.Requirements.Prerequisites) != 3 || !g.Requirements.IndividualTherapy {
				t.Errorf("requirements %+v", g.Requirements)
			}
		}},
		{"OCD maintenance meets monthly with rolling entry", "ocd-maintenance", func(t *testing.T, g Group) {
			if g.Cadence != domain.Monthly || g.Entry != domain.EntryRolling || g.Slots[0].WeekOfMonth != 1 {
				t.Errorf("cadence %s entry %s slots %+v", g.Cadence, g.Entry, g.Slots)
			}
		}},
		{"stress and resilience runs in two phases", "stress-resilience", func(t *testing.T, g Group) {
			if len(g.Modules) != 2 || g.Modules[0].Weeks != 10 {
				t.Errorf("modules %+v", g.Modules)
			}
		}},
		{"women's self-esteem is not running", "womens-self-esteem", func(t *testing.T, g Group) {
			if g.Status != domain.NotRunning || g.Requirements.IndividualTherapy {
				t.Errorf("status %s requirements %+v", g.Status, g.Requirements)
			}
		}},
		{"a missing capacity defaults to 10", "coping-depression", func(t *testing.T, g Group) {
			if g.Capacity != domain.DefaultGroupCapacity {
				t.Errorf("capacity %d", g.Capacity)
			}
		}},
		{"DBT for eating disorders belongs to its program", "dbt-eating-disorders", func(t *testing.T, g Group) {
			if g.Program != "eating-disorders" || g.Requirements.MinAge != 18 || len(g.Modules) != 1 || g.Modules[0].Weeks != 16 {
				t.Errorf("%+v", g.GroupSpec)
			}
		}},
		{"DBT skills meets in three slots", "dbt-skills-wednesday", func(t *testing.T, g Group) {
			if !g.Requirements.IndividualTherapy {
				t.Errorf("requirements %+v", g.Requirements)
			}
			for _, id := range []domain.GroupID{"dbt-skills-monday-noon", "dbt-skills-monday-afternoon"} {
				if _, ok := c.Group(id); !ok {
					t.Errorf("missing %s", id)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, ok := c.Group(tt.group)
			if !ok {
				t.Fatalf("group %s missing", tt.group)
			}
			tt.check(t, g)
		})
	}
}

func TestParseRejects(t *testing.T) {
	const program = `{"id":"clinic","name":"Clinic","level":"outpatient","capacity":10}`
	group := func(extra string) string {
		return `{"id":"g","name":"G","modality":"process","level":"outpatient","status":"running","cadence":"weekly",` +
			`"slots":[{"day":"monday","start":"10:00","end":"11:00"}],"entry":"any_time"` + extra + `}`
	}
	tests := []struct {
		name string
		json string
		want string // in the error message
	}{
		{"unknown top-level member", `{"programs":[],"groups":[],"extra":1}`, `unknown field "extra"`},
		{"unknown program member", `{"programs":[{"id":"a","name":"A","level":"iop","capacity":1,"beds":3}]}`, `programs[0]: json: unknown field "beds"`},
		{"unknown group member", `{"groups":[` + group(`,"room":"B12"`) + `]}`, `groups[0]: json: unknown field "room"`},
		{"bad program level", `{"programs":[{"id":"a","name":"A","level":"day-care","capacity":1}]}`, `programs[0]: invalid level: unknown level`},
		{"bad group level", `{"groups":[` + strings.Replace(group(""), `"outpatient"`, `"ambulatory"`, 1) + `]}`, `groups[0]: invalid level: unknown level`},
		{"missing level", `{"programs":[{"id":"a","name":"A","capacity":1}]}`, `program "a": invalid level`},
		{"bad weekday", `{"groups":[` + strings.Replace(group(""), `"monday"`, `"mon"`, 1) + `]}`, `invalid weekday: unknown weekday`},
		{"bad slot time", `{"groups":[` + strings.Replace(group(""), `"11:00"`, `"11h"`, 1) + `]}`, `not a time in the form HH:MM`},
		{"duplicate group", `{"groups":[` + group("") + `,` + group("") + `]}`, `group "g": duplicate group ID`},
		{"unknown program reference", `{"groups":[` + group(`,"program":"nowhere"`) + `]}`, `program "nowhere" is not in the catalog`},
		{"level differs from program", `{"programs":[` + strings.Replace(program, "outpatient", "php", 1) + `],"groups":[` + group(`,"program":"clinic"`) + `]}`, `differs from its program's level php`},
		{"unknown prerequisite", `{"groups":[` + group(`,"requirements":{"prerequisites":[{"group":"ghost"}]}`) + `]}`, `prerequisite group "ghost"`},
		{"modules without cycle start", `{"groups":[` + group(`,"modules":[{"name":"M","weeks":6}]`) + `]}`, `cycleStart`},
		{"bad group ID", `{"groups":[` + strings.Replace(group(""), `"id":"g"`, `"id":"G 1"`, 1) + `]}`, `must be lowercase`},
		{"trailing data", `{"programs":[]} {}`, `unexpected data`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(tt.json))
			if err == nil {
				t.Fatal("Parse accepted an invalid catalog")
			}
			if !errors.Is(err, ErrInvalidCatalog) {
				t.Errorf("error %v does not match ErrInvalidCatalog", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestParseAcceptsMinimalCatalog(t *testing.T) {
	c, err := Parse(strings.NewReader(`{"programs":[{"id":"clinic","name":"Clinic","level":"outpatient","capacity":40}],
		"groups":[{"id":"g","name":"G","modality":"support","level":"outpatient","program":"clinic","status":"running",
		"cadence":"weekly","slots":[{"day":"friday","start":"13:00","end":"14:00"}],"entry":"rolling"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Groups) != 1 || c.Groups[0].Capacity != domain.DefaultGroupCapacity {
		t.Fatalf("groups %+v", c.Groups)
	}
}

func TestCommandsCreateEveryEntry(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 8, 1, 9, 0, 0, 0, time.UTC)
	programs, groups := c.Commands(at)
	if len(programs) != len(c.Programs) || len(groups) != len(c.Groups) {
		t.Fatalf("%d program and %d group commands for %d programs and %d groups", len(programs), len(groups), len(c.Programs), len(c.Groups))
	}
	for _, cmd := range programs {
		events, err := domain.Program{}.Decide(cmd, at)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Program, err)
		}
		if created, ok := events[0].(domain.ProgramCreated); !ok || created.Program != cmd.Program {
			t.Fatalf("%s: events %+v", cmd.Program, events)
		}
	}
	for _, cmd := range groups {
		events, err := domain.Group{}.Decide(cmd, at)
		if err != nil {
			t.Fatalf("%s: %v", cmd.Group, err)
		}
		var g domain.Group
		g.Evolve(events[0])
		if !g.Created || g.ID != cmd.Group {
			t.Fatalf("%s: folded %+v", cmd.Group, g)
		}
		if _, err := g.Decide(cmd, at); !errors.Is(err, domain.ErrConflict) {
			t.Fatalf("%s: creating twice: %v, want ErrConflict", cmd.Group, err)
		}
	}
}
