// Package crashtest holds the crash-safety test (SPEC §5, issue 8): it runs
// a real `latch serve` on SQLite (and PostgreSQL when reachable), drives
// logins, code exchanges, refreshes and sign-ups against it, kills it with
// SIGKILL at random moments, restarts it, and checks that nothing the
// client was told happened is lost or can happen twice. The package has no
// non-test code.
package crashtest
