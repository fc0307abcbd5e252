// Package config loads, defaults and validates latch's declarative YAML
// configuration (SPEC §2), with LATCH_* environment variables and command
// line flags taking precedence over the file.
package config
