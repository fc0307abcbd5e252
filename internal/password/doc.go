// Package password hashes and verifies user passwords: argon2id for every
// hash latch makes, bcrypt accepted from Auth0 imports (and flagged for
// rehash). The number of hashes in flight is bounded so a login flood cannot
// exhaust memory.
package password
