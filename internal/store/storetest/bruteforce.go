package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

func testLoginFailures(t *testing.T, newStore func(t *testing.T) store.Store) {
	const ip1, ip2 = "192.0.2.10", "2001:db8::7"
	month := 30 * 24 * time.Hour

	t.Run("CountsPerKeyAndIP", func(t *testing.T) {
		s := newStore(t)
		key := newUserID()
		for i := 1; i <= 3; i++ {
			n, err := s.RecordLoginFailure(ctx(t), key, ip1, at(time.Duration(i)*time.Second), at(month))
			must(t, "RecordLoginFailure", err)
			if n != i {
				t.Fatalf("failure %d: count = %d", i, n)
			}
		}
		tests := []struct {
			name, key, ip string
			now           time.Time
			want          int
		}{
			{"SamePair", key, ip1, at(time.Minute), 3},
			{"OtherIP", key, ip2, at(time.Minute), 0},
			{"OtherKey", newUserID(), ip1, at(time.Minute), 0},
			{"JustBeforeExpiry", key, ip1, at(month - time.Millisecond), 3},
			{"AtExpiry", key, ip1, at(month), 0},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				n, err := s.CountLoginFailures(ctx(t), tc.key, tc.ip, tc.now)
				must(t, "CountLoginFailures", err)
				if n != tc.want {
					t.Errorf("count = %d, want %d", n, tc.want)
				}
			})
		}
	})

	t.Run("ExpiredRunRestarts", func(t *testing.T) {
		s := newStore(t)
		key := newUserID()
		for range 2 {
			_, err := s.RecordLoginFailure(ctx(t), key, ip1, base, at(time.Hour))
			must(t, "RecordLoginFailure", err)
		}
		n, err := s.RecordLoginFailure(ctx(t), key, ip1, at(time.Hour), at(2*time.Hour))
		must(t, "RecordLoginFailure after expiry", err)
		if n != 1 {
			t.Fatalf("count after expiry = %d, want 1", n)
		}
		list, err := s.ListLoginFailures(ctx(t), key, at(time.Hour))
		must(t, "ListLoginFailures", err)
		if len(list) != 1 {
			t.Fatalf("ListLoginFailures = %+v, want one run", list)
		}
		checkEqual(t, "run", &list[0], &store.LoginFailure{Key: key, IP: ip1, Count: 1,
			FirstFailureAt: at(time.Hour), LastFailureAt: at(time.Hour), ExpiresAt: at(2 * time.Hour)})
	})

	t.Run("List", func(t *testing.T) {
		s := newStore(t)
		key := newUserID()
		record := func(ip string, now, exp time.Time) {
			_, err := s.RecordLoginFailure(ctx(t), key, ip, now, exp)
			must(t, "RecordLoginFailure", err)
		}
		record(ip2, base, at(month))
		record(ip1, base, at(month))
		record(ip1, at(time.Minute), at(time.Minute+month))
		record("198.51.100.1", base, at(time.Hour)) // expired by the time we list
		_, err := s.RecordLoginFailure(ctx(t), newUserID(), ip1, base, at(month))
		must(t, "RecordLoginFailure other key", err)

		list, err := s.ListLoginFailures(ctx(t), key, at(2*time.Hour))
		must(t, "ListLoginFailures", err)
		want := []store.LoginFailure{
			{Key: key, IP: ip1, Count: 2, FirstFailureAt: base, LastFailureAt: at(time.Minute), ExpiresAt: at(time.Minute + month)},
			{Key: key, IP: ip2, Count: 1, FirstFailureAt: base, LastFailureAt: base, ExpiresAt: at(month)},
		}
		if len(list) != len(want) {
			t.Fatalf("ListLoginFailures = %+v, want %d runs", list, len(want))
		}
		for i := range want {
			checkEqual(t, "run "+want[i].IP, &list[i], &want[i])
		}
		empty, err := s.ListLoginFailures(ctx(t), newUserID(), base)
		must(t, "ListLoginFailures unknown", err)
		if len(empty) != 0 {
			t.Errorf("ListLoginFailures of an unknown key = %+v", empty)
		}
	})

	t.Run("Clear", func(t *testing.T) {
		tests := []struct {
			name     string
			clearIP  string
			wantIPs  []string
			otherKey int // the other key's count afterwards
		}{
			{"OneIP", ip1, []string{ip2}, 1},
			{"AllIPs", "", nil, 1},
			{"UnknownIP", "203.0.113.9", []string{ip1, ip2}, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				s := newStore(t)
				key, other := newUserID(), newUserID()
				for _, f := range []struct{ key, ip string }{{key, ip1}, {key, ip2}, {other, ip1}} {
					_, err := s.RecordLoginFailure(ctx(t), f.key, f.ip, base, at(month))
					must(t, "RecordLoginFailure", err)
				}
				must(t, "ClearLoginFailures", s.ClearLoginFailures(ctx(t), key, tc.clearIP))
				list, err := s.ListLoginFailures(ctx(t), key, base)
				must(t, "ListLoginFailures", err)
				var ips []string
				for _, f := range list {
					ips = append(ips, f.IP)
				}
				if !slices.Equal(ips, tc.wantIPs) {
					t.Errorf("runs left from %q, want %q", ips, tc.wantIPs)
				}
				n, err := s.CountLoginFailures(ctx(t), other, ip1, base)
				must(t, "CountLoginFailures other", err)
				if n != tc.otherKey {
					t.Errorf("other key's count = %d, want %d", n, tc.otherKey)
				}
			})
		}
	})

	t.Run("ConcurrentFailuresAllCount", func(t *testing.T) {
		s := newStore(t)
		key := newUserID()
		const n = 16
		counts := make([]int, n)
		errs := race(n, func(i int) error {
			var err error
			counts[i], err = s.RecordLoginFailure(ctx(t), key, ip1, base, at(month))
			return err
		})
		for _, err := range errs {
			must(t, "RecordLoginFailure", err)
		}
		slices.Sort(counts)
		for i, c := range counts {
			if c != i+1 {
				t.Fatalf("returned counts %v, want 1..%d each once", counts, n)
			}
		}
		got, err := s.CountLoginFailures(ctx(t), key, ip1, base)
		must(t, "CountLoginFailures", err)
		if got != n {
			t.Errorf("count = %d, want %d", got, n)
		}
	})
}

func testIPThrottle(t *testing.T, newStore func(t *testing.T) store.Store) {
	const ip = "192.0.2.77"
	cost := 864 * time.Second

	t.Run("ChargesAndDrains", func(t *testing.T) {
		s := newStore(t)
		tat, err := s.IPThrottle(ctx(t), ip)
		must(t, "IPThrottle unknown", err)
		if !tat.IsZero() {
			t.Fatalf("IPThrottle of an unknown ip = %v, want zero", tat)
		}
		steps := []struct {
			name string
			now  time.Time
			want time.Time
		}{
			{"First", base, at(cost)},
			{"SecondAtOnce", base, at(2 * cost)},
			{"ThirdSoonAfter", at(time.Second), at(3 * cost)},
			{"AfterDraining", at(10 * cost), at(11 * cost)},
		}
		for _, st := range steps {
			got, err := s.ThrottleIP(ctx(t), ip, st.now, cost)
			must(t, "ThrottleIP "+st.name, err)
			if msg := diffTime(got, st.want); msg != "" {
				t.Fatalf("%s: ThrottleIP: %s", st.name, msg)
			}
			stored, err := s.IPThrottle(ctx(t), ip)
			must(t, "IPThrottle", err)
			if msg := diffTime(stored, st.want); msg != "" {
				t.Fatalf("%s: IPThrottle: %s", st.name, msg)
			}
		}
		other, err := s.IPThrottle(ctx(t), "192.0.2.78")
		must(t, "IPThrottle other", err)
		if !other.IsZero() {
			t.Errorf("another ip was charged: %v", other)
		}
	})

	t.Run("ConcurrentChargesAllCount", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		errs := race(n, func(int) error {
			_, err := s.ThrottleIP(ctx(t), ip, base, cost)
			return err
		})
		for _, err := range errs {
			must(t, "ThrottleIP", err)
		}
		got, err := s.IPThrottle(ctx(t), ip)
		must(t, "IPThrottle", err)
		if msg := diffTime(got, at(n*cost)); msg != "" {
			t.Errorf("after %d concurrent charges: %s", n, msg)
		}
	})

	t.Run("DeleteExpired", func(t *testing.T) {
		s := newStore(t)
		live, dead := newUserID(), newUserID()
		_, err := s.RecordLoginFailure(ctx(t), live, ip, base, at(2*time.Hour))
		must(t, "RecordLoginFailure live", err)
		_, err = s.RecordLoginFailure(ctx(t), dead, ip, base, at(time.Hour))
		must(t, "RecordLoginFailure dead", err)
		_, err = s.ThrottleIP(ctx(t), "192.0.2.1", base, time.Hour) // drained at base+1h
		must(t, "ThrottleIP", err)
		_, err = s.ThrottleIP(ctx(t), "192.0.2.2", base, 2*time.Hour+1) // still charged
		must(t, "ThrottleIP", err)

		n, err := s.DeleteExpiredLoginFailures(ctx(t), at(time.Hour), 100)
		must(t, "DeleteExpiredLoginFailures", err)
		if n != 2 {
			t.Errorf("deleted %d rows, want 2", n)
		}
		if c, err := s.CountLoginFailures(ctx(t), live, ip, at(time.Hour)); err != nil || c != 1 {
			t.Errorf("live run: count %d, %v", c, err)
		}
		if tat, err := s.IPThrottle(ctx(t), "192.0.2.1"); err != nil || !tat.IsZero() {
			t.Errorf("drained throttle still stored: %v, %v", tat, err)
		}
		if tat, err := s.IPThrottle(ctx(t), "192.0.2.2"); err != nil || tat.IsZero() {
			t.Errorf("charged throttle was deleted: %v, %v", tat, err)
		}
		n, err = s.DeleteExpiredLoginFailures(ctx(t), at(time.Hour), 100)
		must(t, "DeleteExpiredLoginFailures again", err)
		if n != 0 {
			t.Errorf("second pass deleted %d rows, want 0", n)
		}
	})
}
