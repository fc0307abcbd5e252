package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseDuration reads Go duration text ("36000s", "72h", "1h30m") or a whole
// number of seconds ("3600"). Negative values are refused: every duration in
// the config is a lifetime or an interval.
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty duration")
	}
	if isDigits(s) {
		return secondsDuration(s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (want Go duration text like 36000s, 10m, 72h, or whole seconds)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %q", s)
	}
	return Duration(d), nil
}

// secondsDuration converts a string of decimal digits to seconds, refusing
// values that overflow time.Duration.
func secondsDuration(s string) (Duration, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > math.MaxInt64/int64(time.Second) {
		return 0, fmt.Errorf("duration %q seconds is too large", s)
	}
	return Duration(time.Duration(n) * time.Second), nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String formats d in the largest whole unit that represents it exactly
// ("72h", "10m", "36000s"), falling back to time.Duration's form, so the
// output reads like the YAML a person would write and parses back.
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0s"
	case td%time.Hour == 0:
		return strconv.FormatInt(int64(td/time.Hour), 10) + "h"
	case td%time.Minute == 0:
		return strconv.FormatInt(int64(td/time.Minute), 10) + "m"
	case td%time.Second == 0:
		return strconv.FormatInt(int64(td/time.Second), 10) + "s"
	}
	return td.String()
}

// UnmarshalYAML accepts a duration string or a plain integer of seconds.
// Errors are reported as *yaml.TypeError so the decoder carries on and
// reports every bad value with its line.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	fail := func(msg string) error {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, msg)}}
	}
	if n.Kind != yaml.ScalarNode {
		return fail("want a duration like 36000s or a number of seconds")
	}
	switch n.ShortTag() {
	case "!!int":
		var secs int64
		if err := n.Decode(&secs); err != nil {
			return fail(fmt.Sprintf("invalid duration %q", n.Value))
		}
		if secs < 0 {
			return fail(fmt.Sprintf("negative duration %q", n.Value))
		}
		v, err := secondsDuration(strconv.FormatInt(secs, 10))
		if err != nil {
			return fail(err.Error())
		}
		*d = v
		return nil
	case "!!str":
		v, err := ParseDuration(n.Value)
		if err != nil {
			return fail(err.Error())
		}
		*d = v
		return nil
	}
	return fail(fmt.Sprintf("invalid duration %q (want Go duration text like 36000s, or whole seconds)", n.Value))
}

// MarshalYAML writes d as duration text (see String).
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalText parses duration text or whole seconds (for flags and JSON).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText writes d as duration text (see String).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }
