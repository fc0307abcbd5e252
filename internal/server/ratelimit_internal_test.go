package server

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLimiterBoundedMemory: however many clients come, a limiter keeps at
// most shardCount × maxKeysPerShard buckets, and idle ones are swept.
func TestLimiterBoundedMemory(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1_800_000_000, 0)
	const keys = shardCount*maxKeysPerShard + 20000
	for i := range keys {
		l.take(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), 60, now)
	}
	if n := l.size(); n > shardCount*maxKeysPerShard {
		t.Fatalf("%d buckets kept, bound is %d", n, shardCount*maxKeysPerShard)
	}
	// Minutes later every old bucket is idle: each shard's next sweep (at
	// most sweepEvery inserts away; each gets about twice that) drops them.
	later := now.Add(2 * time.Minute)
	for i := range 2 * shardCount * sweepEvery {
		l.take(fmt.Sprintf("new-%d", i), 60, later)
	}
	if n := l.count(func(k string) bool { return !strings.HasPrefix(k, "new-") }); n != 0 {
		t.Errorf("%d idle buckets survived the sweeps", n)
	}
}

// TestLimiterNoisyNeighbour: a client hammering its bucket from many
// goroutines never takes another client's tokens.
func TestLimiterNoisyNeighbour(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 500 {
				l.take("noisy", 10, now)
			}
		})
	}
	quiet := 0
	for range 10 {
		if l.take("quiet", 10, now).ok {
			quiet++
		}
	}
	wg.Wait()
	if quiet != 10 {
		t.Errorf("quiet client got %d of its 10 requests", quiet)
	}
	if v := l.take("noisy", 10, now); v.ok || v.wait != 6*time.Second {
		t.Errorf("noisy client: %+v, want refused with a 6s wait", v)
	}
}

func TestIPKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.1", "192.0.2.1"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::9", "2001:db8:1:2::/64"},
		{"not an ip", "not an ip"},
	}
	for _, tt := range tests {
		if got := ipKey(tt.in); got != tt.want {
			t.Errorf("ipKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// size counts the buckets of every shard.
func (l *limiter) size() int { return l.count(func(string) bool { return true }) }

// count counts the buckets whose key matches.
func (l *limiter) count(match func(string) bool) int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k := range sh.m {
			if match(k) {
				n++
			}
		}
		sh.mu.Unlock()
	}
	return n
}
