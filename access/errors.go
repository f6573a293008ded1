package access

import "errors"

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrInvalid: the input does not parse; the concrete error is an
	// *InputError naming the field.
	ErrInvalid = errors.New("invalid input")
	// ErrUserExists: AddUser with a name already taken.
	ErrUserExists = errors.New("a user with this name exists already")
	// ErrUserNotFound: no user has this name.
	ErrUserNotFound = errors.New("no such user")
	// ErrCredentialNotFound: the user has no live credential with this ID.
	ErrCredentialNotFound = errors.New("no live session or token with this ID")
	// ErrLastAdmin: the change would leave no enabled admin, and nobody
	// could manage users or erase a person any more.
	ErrLastAdmin = errors.New("this is the last enabled admin: add another admin first")
	// ErrUserDisabled: the user is disabled and cannot be given a credential.
	ErrUserDisabled = errors.New("this user is disabled")
	// ErrBadCredentials: a sign-in failed. The concrete error is a
	// *SignInError whose reason is for the audit, not for the caller.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrConflict: the user's stream kept changing under an update.
	ErrConflict = errors.New("the user changed concurrently; try again")
)

// InputError refuses one field of a request, in words safe to show.
type InputError struct {
	Field, Reason string
}

func (e *InputError) Error() string { return e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalid }

// Reasons a sign-in fails, as the audit records them.
const (
	ReasonUnknownUser   = "unknown_user"
	ReasonWrongPassword = "wrong_password"
	ReasonDisabled      = "disabled"
)

// SignInError is a failed sign-in. Callers show ErrBadCredentials' words
// whatever the reason, so nobody can probe which user names exist.
type SignInError struct {
	Reason string
}

func (e *SignInError) Error() string { return ErrBadCredentials.Error() }

// Is makes errors.Is(err, ErrBadCredentials) true.
func (e *SignInError) Is(target error) bool { return target == ErrBadCredentials }
