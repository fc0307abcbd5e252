package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latch-auth/latch/internal/store"
)

// Benchmarks of the store calls on latch's hot paths (code exchange,
// refresh rotation, /userinfo), on a real file. `go run ./bench` measures
// the same calls through the HTTP endpoints.

func benchStore(b *testing.B) (*Store, *store.User) {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "latch.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := &store.User{ID: "auth0|0123456789abcdef01234567", Connection: "db", Email: "ann@example.com",
		Name: "Ann", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	return s, u
}

var benchSeq atomic.Int64

func benchHash() string { return fmt.Sprintf("%064x", benchSeq.Add(1)) }

func BenchmarkGetUser(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetUser(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCreateAccessToken(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.CreateAccessToken(ctx, &store.AccessToken{Hash: benchHash(), GrantID: "g",
				ClientID: "spa", UserID: u.ID, Scope: "openid", CreatedAt: now, ExpiresAt: now.Add(time.Hour),
			}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkGetAccessToken(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	h := benchHash()
	if err := s.CreateAccessToken(ctx, &store.AccessToken{Hash: h, GrantID: "g", ClientID: "spa",
		UserID: u.ID, Scope: "openid", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.GetAccessToken(ctx, h, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkConsumeAuthCode(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	hashes := make([]string, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		if len(hashes) == 0 {
			b.StopTimer()
			for range cap(hashes) {
				h := benchHash()
				if err := s.CreateAuthCode(ctx, &store.AuthCode{Hash: h, ClientID: "spa", UserID: u.ID,
					Scope: "openid", AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
					b.Fatal(err)
				}
				hashes = append(hashes, h)
			}
			b.StartTimer()
		}
		h := hashes[len(hashes)-1]
		hashes = hashes[:len(hashes)-1]
		if _, err := s.ConsumeAuthCode(ctx, h, "grant", now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRotateRefreshToken(b *testing.B) {
	s, u := benchStore(b)
	ctx := context.Background()
	now := time.Now()
	tok := func(h string) *store.RefreshToken {
		return &store.RefreshToken{Hash: h, FamilyID: "fam", ClientID: "spa", UserID: u.ID,
			Scope: "openid offline_access", AuthTime: now, CreatedAt: now,
			IdleExpiresAt: now.Add(time.Hour), FamilyExpiresAt: now.Add(time.Hour)}
	}
	cur := benchHash()
	if err := s.CreateRefreshToken(ctx, tok(cur)); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		next := benchHash()
		if _, err := s.RotateRefreshToken(ctx, cur, tok(next), now, 0); err != nil {
			b.Fatal(err)
		}
		cur = next
	}
}
