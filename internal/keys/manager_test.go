package keys

import (
	"context"
	"testing"
	"time"
)

// TestFirstStartRace drives createFirst through the interleaving where
// another instance inserts its first key between our last look and our
// insert.
func TestFirstStartRace(t *testing.T) {
	kek, _ := deriveKEK(testMaster)
	for _, tt := range []struct {
		name     string
		otherID  string // "~" sorts after every base64url kid, "!" before
		keepOurs bool
	}{
		{name: "other key wins, ours withdrawn", otherID: "~", keepOurs: false},
		{name: "our key wins, other retired", otherID: "!", keepOurs: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			st := &memKeys{}
			st.beforeCreate = func() {
				other, _, err := generate(kek, RS256, clk.Now(), clk.Now())
				if err != nil {
					t.Error(err)
					return
				}
				// Re-seal under the chosen kid (the kid is GCM's additional data).
				der, err := open(kek, other.ID, other.EncryptedPrivate)
				if err != nil {
					t.Error(err)
					return
				}
				other.ID = tt.otherID
				if other.EncryptedPrivate, err = seal(kek, other.ID, der); err != nil {
					t.Error(err)
				}
				st.keys = append(st.keys, *other)
			}
			m := NewManager(st, testMaster, Options{Now: clk.Now, RetireAfter: time.Hour, RefreshInterval: time.Minute})
			if err := m.Init(ctx); err != nil {
				t.Fatal(err)
			}
			cur := m.CurrentKeyID()
			if (cur != tt.otherID) != tt.keepOurs {
				t.Fatalf("current = %q; keepOurs %v", cur, tt.keepOurs)
			}
			infos, err := List(ctx, st, clk.Now())
			if err != nil {
				t.Fatal(err)
			}
			if !tt.keepOurs {
				if len(infos) != 1 || infos[0].ID != tt.otherID {
					t.Fatalf("keys = %+v, want only %q", infos, tt.otherID)
				}
				return
			}
			if len(infos) != 2 {
				t.Fatalf("keys = %+v, want 2", infos)
			}
			for _, k := range infos {
				switch k.ID {
				case cur:
					if k.State != StateCurrent || !k.ExpiresAt.IsZero() {
						t.Errorf("our key %+v, want current without expiry", k)
					}
				default:
					want := clk.Now().Add(time.Minute + time.Hour)
					if k.State != StateRetiring || !k.ExpiresAt.Equal(want) {
						t.Errorf("other key %+v, want retiring until %v", k, want)
					}
				}
			}
		})
	}
}
