package store

import "time"

// LoginFailure counts the consecutive failed logins for one account from one
// IP address (Auth0's brute-force protection, SPEC §5). Key is the user id,
// or, for an identifier that names no user, an opaque key derived from it
// (so that blocking does not reveal which accounts exist). A successful
// login clears the pair; a row is forgotten at ExpiresAt.
type LoginFailure struct {
	Key            string
	IP             string
	Count          int
	FirstFailureAt time.Time // first failure of the current run
	LastFailureAt  time.Time
	ExpiresAt      time.Time // the run (and any block) ends here
}
