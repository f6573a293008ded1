package domain

// Instrument is a standardized outcome measure. Each has a fixed score range,
// a clinical cut-off and a reliable-change threshold, so outcome rules live
// with the instrument instead of being repeated in every report.
type Instrument uint8

// Instruments.
const (
	// PHQ9 is the Patient Health Questionnaire-9 (depression), total 0–27.
	PHQ9 Instrument = iota + 1
	// GAD7 is the Generalized Anxiety Disorder-7 scale, total 0–21.
	GAD7
)

var instruments = enumSpec[Instrument]{kind: "instrument", names: []string{"", "phq9", "gad7"}}

// instrumentFacts holds the published properties of each instrument, indexed by value.
var instrumentFacts = [...]struct {
	loinc           string
	max             int
	clinicalCutoff  int
	reliableChange  int
	remissionCutoff int
}{
	PHQ9: {loinc: "44261-6", max: 27, clinicalCutoff: 10, reliableChange: 6, remissionCutoff: 5},
	GAD7: {loinc: "70274-6", max: 21, clinicalCutoff: 8, reliableChange: 4, remissionCutoff: 5},
}

// facts answers the zero facts for an invalid instrument instead of panicking.
func (in Instrument) facts() (f struct {
	loinc           string
	max             int
	clinicalCutoff  int
	reliableChange  int
	remissionCutoff int
}) {
	if in.Valid() {
		f = instrumentFacts[in]
	}
	return f
}

// Instruments lists every instrument.
func Instruments() []Instrument { return []Instrument{PHQ9, GAD7} }

// ParseInstrument reads an instrument from its wire name ("phq9", "gad7").
func ParseInstrument(s string) (Instrument, error) { return instruments.parse(s) }

// InstrumentByLOINC finds the instrument whose total score has the given LOINC
// code, for imports from systems that identify measures that way.
func InstrumentByLOINC(code string) (Instrument, error) {
	for _, in := range Instruments() {
		if in.LOINC() == code {
			return in, nil
		}
	}
	return 0, &InvalidError{Field: "instrument", Reason: "unknown LOINC code"}
}

// String returns the wire name.
func (in Instrument) String() string { return instruments.name(in) }

// Valid reports whether in is a known instrument.
func (in Instrument) Valid() bool { return instruments.valid(in) }

// LOINC is the LOINC code of the instrument's total score.
func (in Instrument) LOINC() string { return in.facts().loinc }

// MinScore is the lowest possible total score.
func (in Instrument) MinScore() int { return 0 }

// MaxScore is the highest possible total score.
func (in Instrument) MaxScore() int { return in.facts().max }

// InRange reports whether score is a possible total score of the instrument.
func (in Instrument) InRange(score int) bool {
	return in.Valid() && score >= in.MinScore() && score <= in.MaxScore()
}

// ClinicalCutoff is the lowest score in the clinical range (PHQ-9 ≥ 10, GAD-7 ≥ 8).
func (in Instrument) ClinicalCutoff() int { return in.facts().clinicalCutoff }

// ReliableChange is the smallest drop that counts as reliable improvement
// (PHQ-9 6, GAD-7 4).
func (in Instrument) ReliableChange() int { return in.facts().reliableChange }

// RemissionBelow is the score under which a person is in remission (< 5).
func (in Instrument) RemissionBelow() int { return in.facts().remissionCutoff }

// MarshalText writes the wire name.
func (in Instrument) MarshalText() ([]byte, error) { return instruments.marshal(in) }

// UnmarshalText reads the wire name.
func (in *Instrument) UnmarshalText(b []byte) error {
	v, err := instruments.unmarshal(b)
	*in = v
	return err
}
