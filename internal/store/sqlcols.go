package store

import "strings"

// QualifiedColumns prefixes every column of a comma-separated column list
// with a table alias ("id, email" → "u.id, u.email"), for backends that
// reuse one column list in a JOIN.
func QualifiedColumns(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
