package domain

import (
	"reflect"
	"testing"
)

func TestProgramDecide(t *testing.T) {
	spec := ProgramSpec{Name: "Partial hospitalization program", Level: PHP, Capacity: 24}
	larger := spec
	larger.Capacity = 30
	programCreated := ProgramCreated{Program: "php", ProgramSpec: spec, OccurredAt: created}
	tests := []struct {
		name    string
		history []Event
		cmd     ProgramCommand
		want    decision
	}{
		{"create", nil, CreateProgram{Program: "php", Spec: spec, At: created}, accept(programCreated)},
		{"create twice", []Event{programCreated}, CreateProgram{Program: "php", Spec: spec}, refuse(ErrConflict, CodeAlreadyExists)},
		{"create without a level", nil, CreateProgram{Program: "php", Spec: ProgramSpec{Name: "P", Capacity: 1}}, refuse(ErrInvalid, CodeInvalidInput)},
		{"create without capacity", nil, CreateProgram{Program: "php", Spec: ProgramSpec{Name: "P", Level: PHP}}, refuse(ErrInvalid, CodeInvalidInput)},
		{"create without a name", nil, CreateProgram{Program: "php", Spec: ProgramSpec{Level: PHP, Capacity: 1}}, refuse(ErrInvalid, CodeInvalidInput)},
		{"create with a malformed ID", nil, CreateProgram{Program: "PHP", Spec: spec}, refuse(ErrInvalid, CodeInvalidInput)},
		{"create in the future", nil, CreateProgram{Program: "php", Spec: spec, At: now.Add(day)}, refuse(ErrInvalid, CodeOccurredInFuture)},
		{"change capacity", []Event{programCreated}, ChangeProgram{Program: "php", Spec: larger, At: now},
			accept(ProgramChanged{Program: "php", ProgramSpec: larger, OccurredAt: now})},
		{"change an unknown program", nil, ChangeProgram{Program: "php", Spec: larger}, refuse(ErrNotFound, CodeNotFound)},
		{"change to an invalid definition", []Event{programCreated}, ChangeProgram{Program: "php", Spec: ProgramSpec{Name: "P", Level: PHP}}, refuse(ErrInvalid, CodeInvalidInput)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Program
			for _, e := range tt.history {
				p.Evolve(e)
			}
			got, err := p.Decide(tt.cmd, now)
			checkDecision(t, got, err, tt.want)
		})
	}
}

func TestProgramFold(t *testing.T) {
	spec := ProgramSpec{Name: "IOP", Level: IOP, Capacity: 12}
	changed := ProgramSpec{Name: "IOP evenings", Level: IOP, Capacity: 15}
	var p Program
	for _, e := range []Event{
		ProgramCreated{Program: "iop", ProgramSpec: spec, OccurredAt: created},
		ProgramChanged{Program: "iop", ProgramSpec: changed, OccurredAt: now},
		MemberJoined{Group: "g", Patient: alice, OccurredAt: now},
	} {
		p.Evolve(e)
	}
	if want := (Program{ID: "iop", Created: true, Spec: changed}); !reflect.DeepEqual(p, want) {
		t.Errorf("state %+v, want %+v", p, want)
	}
}
