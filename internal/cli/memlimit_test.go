package cli

import (
	"testing"

	"github.com/latch-auth/latch/internal/password"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name  string
		slots int
		p     password.Params
		want  int64
	}{
		{"no hashing slots", 0, password.DefaultParams, baseMemory},
		{"two slots of the default 19 MiB", 2, password.DefaultParams, baseMemory + 2*19456*1024*3/2},
		{"64 slots of 64 MiB", 64, password.Params{Memory: 64 << 10}, baseMemory + 64*(64<<20)*3/2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := memoryLimit(tc.slots, tc.p); got != tc.want {
				t.Errorf("memoryLimit(%d, %d KiB) = %d, want %d", tc.slots, tc.p.Memory, got, tc.want)
			}
		})
	}
}
