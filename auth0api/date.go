package auth0api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// maxEpoch bounds numeric dates (year 9999), so a hostile number cannot
// overflow time arithmetic.
const maxEpoch = 253402300799

// parseDate reads a date as Auth0 writes it (an RFC 3339 string such as
// "2024-05-01T10:00:00.000Z") or as OpenID Connect writes updated_at (a
// JSON number of seconds since 1970, fractions allowed). null, absent and
// "" are the zero time.
func parseDate(raw json.RawMessage) (time.Time, error) {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return time.Time{}, nil
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return time.Time{}, err
		}
		if str == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.RFC3339Nano, str)
		if err != nil {
			return time.Time{}, fmt.Errorf("not an RFC 3339 date: %q", clip(str))
		}
		return t, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return time.Time{}, errors.New("a date must be an RFC 3339 string or a number of seconds")
	}
	if math.IsNaN(f) || f < -maxEpoch || f > maxEpoch {
		return time.Time{}, fmt.Errorf("date %v out of range", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e9))).UTC(), nil
}
