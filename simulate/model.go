package simulate

import (
	"math"
	"math/rand/v2"

	"github.com/continuum-care/continuum/domain"
)

// The clinical model: who arrives, how sick, how they respond, how long
// they stay at each level and where they go next. The figures are plausible
// orders of magnitude for a behavioral-health system (lengths of stay from
// the brief: inpatient 5–10 days, residential about 30, PHP 2–3 weeks, IOP
// 6–8 weeks, outpatient months), not estimates from data.

// condition is a person's main problem as the intake psychologist sees it;
// it decides which outpatient group a clinician offers.
type condition uint8

const (
	condDepression condition = iota
	condAnxiety
	condEmotionRegulation // DBT candidates
	condEatingDisorder
	condChronicPain
	condStress
	condOCD
	condGeneral
)

// conditionWeights are the shares of each condition among referrals.
var conditionWeights = []float64{
	condDepression:        0.30,
	condAnxiety:           0.22,
	condEmotionRegulation: 0.10,
	condEatingDisorder:    0.05,
	condChronicPain:       0.05,
	condStress:            0.08,
	condOCD:               0.04,
	condGeneral:           0.16,
}

// firstLevelWeights are the levels recommended at a first intake: more
// outpatient and IOP than inpatient, as in most systems.
var firstLevelWeights = []float64{
	domain.Inpatient:   0.13,
	domain.Residential: 0.05,
	domain.PHP:         0.11,
	domain.IOP:         0.19,
	domain.Outpatient:  0.52,
}

// readmitLevelWeights are the levels of a readmission: a return is usually
// a relapse, so more intensive than a first admission.
var readmitLevelWeights = []float64{
	domain.Inpatient:   0.35,
	domain.Residential: 0.05,
	domain.PHP:         0.25,
	domain.IOP:         0.20,
	domain.Outpatient:  0.15,
}

// stepDownWeights[level] are the next steps when a stay at level ends as
// planned: index 0 is discharge, the others the level stepped down to.
var stepDownWeights = map[domain.Level][]float64{
	domain.Inpatient:   {0: 0.40, domain.Residential: 0.08, domain.PHP: 0.22, domain.IOP: 0.12, domain.Outpatient: 0.18},
	domain.Residential: {0: 0.30, domain.PHP: 0.30, domain.IOP: 0.20, domain.Outpatient: 0.20},
	domain.PHP:         {0: 0.30, domain.IOP: 0.30, domain.Outpatient: 0.40},
	domain.IOP:         {0: 0.50, domain.Outpatient: 0.50},
	domain.Outpatient:  {0: 1},
}

// stepUpWeights[level] are the levels a person at level escalates to.
var stepUpWeights = map[domain.Level][]float64{
	domain.Residential: {domain.Inpatient: 1},
	domain.PHP:         {domain.Inpatient: 0.8, domain.Residential: 0.2},
	domain.IOP:         {domain.Inpatient: 0.35, domain.PHP: 0.65},
	domain.Outpatient:  {domain.Inpatient: 0.15, domain.PHP: 0.35, domain.IOP: 0.50},
}

// dropoutPerDay is the daily chance of leaving care early at each level
// (against advice in 24-hour care, dropping out elsewhere).
var dropoutPerDay = map[domain.Level]float64{
	domain.Inpatient:   0.008,
	domain.Residential: 0.0035,
	domain.PHP:         0.007,
	domain.IOP:         0.0032,
	domain.Outpatient:  0.0013,
}

// measureEveryDays is how often PHQ-9 and GAD-7 are repeated at each level.
var measureEveryDays = map[domain.Level]int{
	domain.Inpatient:   7,
	domain.Residential: 7,
	domain.PHP:         7,
	domain.IOP:         7,
	domain.Outpatient:  14,
}

// baselinePHQ9 is the mean PHQ-9 at intake by recommended level.
var baselinePHQ9 = map[domain.Level]float64{
	domain.Inpatient:   20,
	domain.Residential: 19,
	domain.PHP:         17,
	domain.IOP:         15,
	domain.Outpatient:  12.5,
}

// responder says how a person's scores move in treatment.
type responder uint8

const (
	respondStrong responder = iota
	respondPartial
	respondNone
	respondWorse
)

var responderWeights = []float64{respondStrong: 0.45, respondPartial: 0.30, respondNone: 0.17, respondWorse: 0.08}

// trajectory is a person's expected scores over an episode: an exponential
// approach from the baseline to baseline×(1−effect) with time constant tau.
type trajectory struct {
	kind       responder
	effect     float64
	tau        float64
	start      domain.Date
	phq0, gad0 float64
}

func newTrajectory(r *rand.Rand, start domain.Date, phq0, gad0 float64) trajectory {
	t := trajectory{kind: responder(pick(r, responderWeights)), start: start, phq0: phq0, gad0: gad0}
	switch t.kind {
	case respondStrong:
		t.effect = uniform(r, 0.6, 0.85)
	case respondPartial:
		t.effect = uniform(r, 0.25, 0.5)
	case respondNone:
		t.effect = uniform(r, -0.05, 0.15)
	default:
		t.effect = uniform(r, -0.45, -0.15)
	}
	t.tau = uniform(r, 15, 45)
	return t
}

// scores draws the PHQ-9 and GAD-7 totals measured on day d.
func (t trajectory) scores(r *rand.Rand, d domain.Date) (phq9, gad7 int) {
	days := float64(max(d.DaysSince(t.start), 0))
	f := 1 - t.effect*(1-math.Exp(-days/t.tau))
	return clampScore(domain.PHQ9, t.phq0*f+r.NormFloat64()*1.6), clampScore(domain.GAD7, t.gad0*f+r.NormFloat64()*1.3)
}

// struggling reports whether the person is doing badly enough for a
// clinician to consider a more intensive level.
func (t trajectory) struggling() bool { return t.kind == respondWorse || t.kind == respondNone }

// staysDays draws a planned length of stay at level.
func staysDays(r *rand.Rand, level domain.Level) int {
	switch level {
	case domain.Inpatient:
		return 5 + r.IntN(6) // 5–10 days
	case domain.Residential:
		return clampInt(int(math.Round(30+r.NormFloat64()*7)), 16, 50)
	case domain.PHP:
		return clampInt(int(math.Round(17+r.NormFloat64()*3.5)), 10, 28)
	case domain.IOP:
		return 42 + r.IntN(15) // 6–8 weeks
	}
	// Outpatient: months, skewed (median 80 days).
	return clampInt(int(math.Round(80*math.Exp(r.NormFloat64()*0.45))), 35, 300)
}

// admissionWaitDays draws the wait between intake and admission at level.
func admissionWaitDays(r *rand.Rand, level domain.Level) int {
	switch level {
	case domain.Inpatient:
		return 0
	case domain.Residential:
		return 1 + r.IntN(5)
	case domain.PHP:
		return 1 + r.IntN(4)
	case domain.IOP:
		return 2 + r.IntN(9)
	}
	return 3 + r.IntN(19)
}

// referralSource draws where a referral for level came from.
func referralSource(r *rand.Rand, level domain.Level) domain.ReferralSource {
	if level == domain.Inpatient {
		return []domain.ReferralSource{domain.SourceEmergency, domain.SourceEmergency, domain.SourceEmergency,
			domain.SourceHospital, domain.SourcePsychiatry, domain.SourceAccessLine}[r.IntN(6)]
	}
	w := []float64{domain.SourceAccessLine: 0.35, domain.SourceSelf: 0.15, domain.SourcePrimaryCare: 0.23,
		domain.SourcePsychiatry: 0.15, domain.SourceCommunity: 0.08, domain.SourceHospital: 0.02, domain.SourceOther: 0.02}
	return domain.ReferralSource(pick(r, w))
}

// plannedDischargeReason draws why a stay that ended as planned ended.
func plannedDischargeReason(r *rand.Rand) domain.DischargeReason {
	x := r.Float64()
	switch {
	case x < 0.0008:
		return domain.DischargeDeath
	case x < 0.85:
		return domain.DischargeCompleted
	case x < 0.95:
		return domain.DischargeTransferred
	case x < 0.99:
		return domain.DischargeAdministrative
	}
	return domain.DischargeOther
}

// readmitChance is the chance a person discharged for reason comes back.
func readmitChance(reason domain.DischargeReason, t trajectory) float64 {
	var p float64
	switch reason {
	case domain.DischargeCompleted:
		p = 0.10
	case domain.DischargeDroppedOut, domain.DischargeAgainstAdvice:
		p = 0.28
	case domain.DischargeTransferred:
		p = 0.05
	case domain.DischargeDeath:
		return 0
	default:
		p = 0.15
	}
	if t.struggling() {
		p *= 1.8
	}
	return p
}

// attendancePropensity draws how reliably a person comes to sessions; the
// mix averages about 80 % present.
func attendancePropensity(r *rand.Rand) float64 {
	return []float64{0.97, 0.9, 0.85, 0.8, 0.75, 0.7, 0.55}[r.IntN(7)]
}

// openEndedWeeks draws how long a person stays in a group without modules.
func openEndedWeeks(r *rand.Rand, g domain.GroupID) int {
	switch g {
	case groupDepression:
		return 12 + r.IntN(9)
	case groupAlumni:
		return 8 + r.IntN(23)
	case groupOCD:
		return 26 + r.IntN(27)
	case groupDBTPractice:
		return 12 + r.IntN(29)
	}
	if isDBTSkills(g) {
		return 24 // the standard DBT skills curriculum
	}
	return 26 + r.IntN(9) // process groups: at least the six-month commitment
}

func isDBTSkills(g domain.GroupID) bool {
	for _, id := range dbtSkillsGroups {
		if id == g {
			return true
		}
	}
	return false
}

// pick draws an index with probability proportional to its weight.
func pick(r *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	for i := len(weights) - 1; i >= 0; i-- {
		if weights[i] > 0 {
			return i
		}
	}
	return 0
}

func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

func clampScore(in domain.Instrument, v float64) int {
	return clampInt(int(math.Round(v)), in.MinScore(), in.MaxScore())
}

// poisson draws a Poisson count with mean lambda (Knuth's method, fine for
// the small means of daily arrivals).
func poisson(r *rand.Rand, lambda float64) int {
	limit, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= limit {
			return k
		}
		k++
	}
}
