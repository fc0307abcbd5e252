package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with the configuration. Field is the YAML path
// of the bad value, such as "clients[1].callbacks[0]" or "lifetimes.code".
type Problem struct {
	Field   string
	Message string
}

// String formats the problem as "field: message".
func (p Problem) String() string { return p.Field + ": " + p.Message }

// ValidationError lists every problem Finalize found, in file order. Use
// errors.As(err, new(*ValidationError)) to get at them.
type ValidationError struct {
	Problems []Problem
}

// Error returns one "field: message" line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects validation findings; validation never stops at the
// first one, so an operator fixes the whole file in one go.
type problems []Problem

func (p *problems) add(field, msg string) { *p = append(*p, Problem{Field: field, Message: msg}) }

func (p *problems) addf(field, format string, args ...any) {
	p.add(field, fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Problems: p}
}

func fieldf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
