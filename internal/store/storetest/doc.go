// Package storetest is the conformance suite for store.Store. Every backend
// runs it unchanged from its own tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s := openFresh(t) // empty and migrated
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// The suite pins the behaviour the rest of latch relies on and the interface
// comments leave to interpretation: which errors each method returns, that
// expiry boundaries are exclusive (a record expiring at now is expired),
// that times come back in UTC with at least millisecond precision, and that
// single-use records stay single-use under concurrency.
package storetest
