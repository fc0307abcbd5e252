package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"testing"
	"time"
)

var (
	testMaster  = []byte("0123456789abcdef0123456789abcdef")
	otherMaster = []byte("fedcba9876543210fedcba9876543210")
)

func TestSealOpen(t *testing.T) {
	kek, err := deriveKEK(testMaster)
	if err != nil {
		t.Fatal(err)
	}
	otherKEK, _ := deriveKEK(otherMaster)
	msg := []byte("PKCS#8 goes here")
	sealed, err := seal(kek, "kid-1", msg)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, msg) {
		t.Fatal("sealed output contains the plaintext")
	}
	again, _ := seal(kek, "kid-1", msg)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals are equal: nonce not random")
	}
	got, err := open(kek, "kid-1", sealed)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("open = %q, %v; want %q", got, err, msg)
	}

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	tests := []struct {
		name   string
		kek    []byte
		kid    string
		sealed []byte
	}{
		{"wrong secret", otherKEK, "kid-1", sealed},
		{"other kid (additional data)", kek, "kid-2", sealed},
		{"tampered", kek, "kid-1", flipped},
		{"truncated", kek, "kid-1", sealed[:10]},
		{"empty", kek, "kid-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := open(tt.kek, tt.kid, tt.sealed)
			if !errors.Is(err, ErrWrongSecret) {
				t.Fatalf("open err = %v, want ErrWrongSecret", err)
			}
		})
	}
}

func TestDeriveKEK(t *testing.T) {
	a, _ := deriveKEK(testMaster)
	b, _ := deriveKEK(testMaster)
	c, _ := deriveKEK(otherMaster)
	if len(a) != 32 || !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Fatalf("deriveKEK: want 32 deterministic bytes that differ per secret")
	}
	if _, err := deriveKEK([]byte("short")); err == nil {
		t.Fatal("deriveKEK accepted a 5-byte secret")
	}
}

func TestGenerateDecrypt(t *testing.T) {
	kek, _ := deriveKEK(testMaster)
	otherKEK, _ := deriveKEK(otherMaster)
	tests := []struct {
		alg      string
		keyCheck func(crypto.Signer) bool
	}{
		{RS256, func(k crypto.Signer) bool { r, ok := k.(*rsa.PrivateKey); return ok && r.N.BitLen() == 2048 }},
		{ES256, func(k crypto.Signer) bool { e, ok := k.(*ecdsa.PrivateKey); return ok && e.Curve == elliptic.P256() }},
		{EdDSA, func(k crypto.Signer) bool { _, ok := k.(ed25519.PrivateKey); return ok }},
	}
	for _, tt := range tests {
		t.Run(tt.alg, func(t *testing.T) {
			now := time.Now()
			rec, priv, err := generate(kek, tt.alg, now, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.ID) != 43 || rec.Algorithm != tt.alg || !tt.keyCheck(priv) {
				t.Fatalf("generate: kid %q alg %q key %T", rec.ID, rec.Algorithm, priv)
			}
			got, err := decrypt(kek, rec)
			type equaler interface{ Equal(crypto.PrivateKey) bool }
			if err != nil || !got.(equaler).Equal(priv) {
				t.Fatalf("decrypt: %v (equal %v)", err, err == nil && got.(equaler).Equal(priv))
			}
			if _, err := decrypt(otherKEK, rec); !errors.Is(err, ErrWrongSecret) {
				t.Fatalf("decrypt with other secret: %v, want ErrWrongSecret", err)
			}
			want := "signing key " + rec.ID + " cannot be decrypted: wrong LATCH_SECRET or secret file?"
			if _, err := decrypt(otherKEK, rec); err == nil || err.Error() != want {
				t.Fatalf("error text = %q, want %q", err, want)
			}
			// A row whose algorithm column does not match its key, or
			// names an algorithm latch does not sign with, is refused.
			for _, alg := range []string{RS256, ES256, EdDSA, "PS256", "HS256", ""} {
				if alg == tt.alg {
					continue
				}
				bad := *rec
				bad.Algorithm = alg
				if _, err := decrypt(kek, &bad); err == nil {
					t.Errorf("decrypt accepted a %s key stored as %q", tt.alg, alg)
				}
			}
		})
	}
	if _, _, err := generate(kek, "HS256", time.Now(), time.Now()); err == nil {
		t.Fatal("generate made an HS256 key")
	}
}
