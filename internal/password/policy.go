package password

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLength is the longest password accepted, in bytes. It bounds the work
// a single hash does and rejects pasted documents.
const MaxLength = 1024

// PolicyError is a password that CheckPolicy rejects. Its message is meant
// for the person choosing the password and may be shown as is.
type PolicyError struct {
	Msg string
}

// Error returns the human-readable reason.
func (e *PolicyError) Error() string { return e.Msg }

// CheckPolicy reports whether pw is acceptable as a new password: not empty,
// not only white space, at least minLength characters (Unicode code points)
// and at most MaxLength bytes. Failures are *PolicyError.
func CheckPolicy(pw string, minLength int) error {
	switch {
	case pw == "":
		return &PolicyError{Msg: "Password is required."}
	case len(pw) > MaxLength:
		return &PolicyError{Msg: fmt.Sprintf("Password is too long (at most %d bytes).", MaxLength)}
	case strings.TrimSpace(pw) == "":
		return &PolicyError{Msg: "Password cannot be blank."}
	case utf8.RuneCountInString(pw) < minLength:
		return &PolicyError{Msg: fmt.Sprintf("Password is too short (at least %d characters).", minLength)}
	}
	return nil
}
