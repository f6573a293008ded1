package access

import (
	"fmt"
	"strings"
)

// Role is what a user is for; routes and live topics are granted per role.
type Role uint8

// The roles. The zero value is no role, which is never granted anything.
const (
	// Director sees aggregates only: the census, group occupancy, outcome
	// figures. Never a name or an identifier.
	Director Role = iota + 1
	// Clinician sees patients and records commands; limited to the
	// programs assigned to the user when there are any.
	Clinician
	// Analyst sees de-identified outcomes and exports: pseudonyms, never
	// names or patient IDs.
	Analyst
	// Admin manages users and the catalog, erases people, takes backups
	// and reads the audit. An admin sees no patient's record.
	Admin
)

var roleNames = [...]string{Director: "director", Clinician: "clinician", Analyst: "analyst", Admin: "admin"}

// Roles lists every role, in order.
func Roles() []Role { return []Role{Director, Clinician, Analyst, Admin} }

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if s == roleNames[r] {
			return r, nil
		}
	}
	names := make([]string, 0, len(roleNames))
	for _, r := range Roles() {
		names = append(names, roleNames[r])
	}
	return 0, fmt.Errorf("role must be one of %s", strings.Join(names, ", "))
}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool { return r >= Director && r <= Admin }

func (r Role) String() string {
	if !r.Valid() {
		return "none"
	}
	return roleNames[r]
}

// MarshalText writes the role's name.
func (r Role) MarshalText() ([]byte, error) {
	if !r.Valid() {
		return nil, fmt.Errorf("access: invalid role %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText reads a role's name.
func (r *Role) UnmarshalText(b []byte) error {
	v, err := ParseRole(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}
