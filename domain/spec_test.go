package domain

import (
	"errors"
	"testing"
	"time"
)

// cbtAnxiety is the catalog's CBT for anxiety: two six-week modules from
// Tuesday 2026-09-01, entry only at a module start.
func cbtAnxiety() GroupSpec {
	return GroupSpec{
		Name: "CBT for anxiety", Modality: ModalitySkills, Level: Outpatient, Capacity: 3, Status: Running, Cadence: Weekly,
		Slots:      []Slot{{Day: Tuesday, Start: 17*60 + 30, End: 18*60 + 45}},
		Modules:    []Module{{Name: "Cognitive", Weeks: 6}, {Name: "Behavioral", Weeks: 6}},
		CycleStart: Date{2026, time.September, 1}, Entry: EntryModuleStart,
		Requirements: Requirements{MinAge: 18, PrimaryCare: true},
	}
}

func TestModuleSchedule(t *testing.T) {
	spec := cbtAnxiety()
	tests := []struct {
		name       string
		day        Date
		module     int
		started    Date
		open       bool
		nextModule int
		nextStart  Date
	}{
		{"before the first cycle", Date{2026, 8, 20}, 1, Date{2026, 9, 1}, false, 1, Date{2026, 9, 1}},
		{"first day of module 1", Date{2026, 9, 1}, 1, Date{2026, 9, 1}, true, 0, Date{}},
		{"last day of module 1's joining week", Date{2026, 9, 7}, 1, Date{2026, 9, 1}, true, 0, Date{}},
		{"second week of module 1", Date{2026, 9, 8}, 1, Date{2026, 9, 1}, false, 2, Date{2026, 10, 13}},
		{"first day of module 2", Date{2026, 10, 13}, 2, Date{2026, 10, 13}, true, 0, Date{}},
		{"late in module 2: the cycle repeats", Date{2026, 11, 10}, 2, Date{2026, 10, 13}, false, 1, Date{2026, 11, 24}},
		{"module 1 of the second cycle", Date{2026, 11, 26}, 1, Date{2026, 11, 24}, true, 0, Date{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			module, started := spec.ModuleOn(tt.day)
			if module != tt.module || started != tt.started {
				t.Errorf("ModuleOn = %d from %v, want %d from %v", module, started, tt.module, tt.started)
			}
			open, next, start := spec.EntryOpen(tt.day)
			if open != tt.open {
				t.Fatalf("EntryOpen = %v", open)
			}
			if open && next != tt.module {
				t.Errorf("entry module %d, want %d", next, tt.module)
			}
			if !open && (next != tt.nextModule || start != tt.nextStart) {
				t.Errorf("next start module %d on %v, want %d on %v", next, start, tt.nextModule, tt.nextStart)
			}
		})
	}
	t.Run("open-ended groups are always open and have no module", func(t *testing.T) {
		s := GroupSpec{Entry: EntryAnyTime}
		if open, module, _ := s.EntryOpen(Date{2030, 1, 1}); !open || module != 0 {
			t.Errorf("EntryOpen = %v, %d", open, module)
		}
	})
	t.Run("any-time groups with modules enter the running module", func(t *testing.T) {
		s := spec
		s.Entry = EntryAnyTime
		if open, module, _ := s.EntryOpen(Date{2026, 10, 30}); !open || module != 2 {
			t.Errorf("EntryOpen = %v, %d", open, module)
		}
	})
}

func TestGroupSpecValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*GroupSpec)
		field  string // "" when valid
	}{
		{"valid", func(*GroupSpec) {}, ""},
		{"no name", func(s *GroupSpec) { s.Name = "" }, "name"},
		{"no modality", func(s *GroupSpec) { s.Modality = 0 }, "modality"},
		{"no level", func(s *GroupSpec) { s.Level = 0 }, "level"},
		{"bad program", func(s *GroupSpec) { s.Program = "Bad Program" }, "program"},
		{"negative capacity", func(s *GroupSpec) { s.Capacity = -1 }, "capacity"},
		{"no status", func(s *GroupSpec) { s.Status = 0 }, "status"},
		{"no cadence", func(s *GroupSpec) { s.Cadence = 0 }, "cadence"},
		{"running without slots", func(s *GroupSpec) { s.Slots = nil }, "slots"},
		{"paused without slots", func(s *GroupSpec) { s.Slots, s.Status = nil, NotRunning }, ""},
		{"slot ending before it starts", func(s *GroupSpec) { s.Slots[0].End = s.Slots[0].Start }, "slots[0]"},
		{"monthly slot without a week", func(s *GroupSpec) { s.Cadence = Monthly }, "slots[0]"},
		{"weekly slot with a week", func(s *GroupSpec) { s.Slots[0].WeekOfMonth = 2 }, "slots[0]"},
		{"module without weeks", func(s *GroupSpec) { s.Modules[1].Weeks = 0 }, "modules[1]"},
		{"modules without a cycle start", func(s *GroupSpec) { s.CycleStart = Date{} }, "cycleStart"},
		{"a cycle start before 1900", func(s *GroupSpec) { s.CycleStart = Date{1899, time.December, 31} }, "cycleStart"},
		{"a cycle start with a mistyped year", func(s *GroupSpec) { s.CycleStart = Date{202, time.September, 1} }, "cycleStart"},
		{"module-start entry without modules", func(s *GroupSpec) { s.Modules = nil }, "entry"},
		{"no entry policy", func(s *GroupSpec) { s.Entry = 0 }, "entry"},
		{"bad prerequisite", func(s *GroupSpec) { s.Requirements.Prerequisites = []Prerequisite{{Group: ""}} }, "requirements.prerequisites[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := cbtAnxiety()
			s.Slots = append([]Slot(nil), s.Slots...)
			s.Modules = append([]Module(nil), s.Modules...)
			tt.change(&s)
			err := s.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var invalid *InvalidError
			if !errors.As(err, &invalid) || invalid.Field != tt.field {
				t.Fatalf("Validate = %v, want an invalid %s", err, tt.field)
			}
		})
	}
	if got := (GroupSpec{}).WithDefaults().Capacity; got != DefaultGroupCapacity {
		t.Errorf("default capacity %d", got)
	}
}
