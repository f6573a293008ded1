package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/continuum-care/continuum/domain"
	"github.com/continuum-care/continuum/privacy"
)

// Invented names for invented people. They reach the log only sealed by the
// command service, and the simulator never logs them.
var (
	femaleNames = []string{"Ada", "Beatriz", "Chioma", "Dana", "Elif", "Farah", "Greta", "Hana", "Ines", "Joanna",
		"Keiko", "Lena", "Mariam", "Nadia", "Olga", "Priya", "Rosa", "Sofia", "Tamar", "Yara"}
	maleNames = []string{"Amir", "Bruno", "Carlos", "Dmitri", "Emeka", "Felix", "Goran", "Hugo", "Ivan", "Jonas",
		"Kenji", "Luca", "Mateo", "Nikhil", "Omar", "Pavel", "Rafael", "Samuel", "Tomas", "Yusuf"}
	familyNames = []string{"Abara", "Bergstrom", "Castillo", "Delacroix", "Eriksen", "Fontaine", "Gallagher", "Haddad",
		"Ishikawa", "Jovanovic", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quintero",
		"Rossi", "Sandoval", "Takahashi", "Underwood", "Varga", "Whitfield", "Yilmaz", "Zielinski"}
)

// personalData invents a name, a date of birth consistent with ageYears on
// day, and a fictional phone number (555-01xx is reserved for fiction).
func personalData(r *rand.Rand, female bool, ageYears int, day domain.Date) privacy.Personal {
	given := maleNames
	if female {
		given = femaleNames
	}
	name := given[r.IntN(len(given))] + " " + familyNames[r.IntN(len(familyNames))]
	born := day.Time().AddDate(-ageYears, 0, -1-r.IntN(364))
	return privacy.Personal{
		Name:        name,
		DateOfBirth: born.Format(time.DateOnly),
		Contact:     fmt.Sprintf("+1 555 01%02d %04d", r.IntN(100), r.IntN(10000)),
	}
}
