// Package store defines what latch persists (users, SSO sessions, login
// transactions, authorization codes, refresh-token families, opaque access
// tokens, consents and signing keys) behind one Store interface with one
// implementation per database (sqlite, postgres). The storetest package holds
// the conformance suite every backend must pass unchanged.
//
// Secrets never reach the store in the clear: callers pass HashToken of codes,
// refresh tokens, access tokens, session cookies and transaction ids.
package store
