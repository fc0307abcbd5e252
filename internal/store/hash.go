package store

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashToken is the form in which a bearer secret (code, refresh token, opaque
// access token, session cookie, transaction id) is stored and looked up: the
// hex SHA-256 of its value. The values are 256-bit random, so a fast hash is
// enough; nothing in the database can be replayed.
func HashToken(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}
