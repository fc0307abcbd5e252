// Package cluster holds the multi-instance test of latch (issue 6): it
// builds the real binary, starts two `latch serve` processes on different
// 127.0.0.1 ports over one PostgreSQL schema with a shared master secret,
// and checks that they behave like one server: a flow begun on one instance
// finishes on the other, both sign and publish the same keys, a rotation
// reaches both, and single-use codes and refresh tokens stay single-use
// when the two instances race for them.
//
// The tests skip when PostgreSQL is unreachable, unless
// LATCH_REQUIRE_POSTGRES=1 (see package pgtest).
package cluster
