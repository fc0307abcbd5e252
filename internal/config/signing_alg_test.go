package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestSigningAlg(t *testing.T) {
	tests := []struct {
		name    string
		alg     string // the YAML value; "-" leaves the key out
		want    string // the finalized value, when valid
		problem string // in the apis[1].signing_alg message, when not
	}{
		{"default", "-", "RS256", ""},
		{"RS256", "RS256", "RS256", ""},
		{"ES256", "ES256", "ES256", ""},
		{"EdDSA", "EdDSA", "EdDSA", ""},
		{"HS256", "HS256", "", `"HS256" is not offered: with a shared secret every resource server`},
		{"HS512", "HS512", "", "shared secret"},
		{"PS256", "PS256", "", `"PS256" is not offered: it costs the same RSA signature as RS256`},
		{"none", "none", "", "unsigned tokens are never issued"},
		{"lower case", "es256", "", `"es256" is spelled ES256`},
		{"Ed25519", "Ed25519", "", `"Ed25519" is not a supported signing algorithm (want RS256, ES256 or EdDSA)`},
		{"ES384", "ES384", "", "not a supported signing algorithm"},
		{"empty string", `""`, "RS256", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := ""
			if tt.alg != "-" {
				line = ", signing_alg: " + tt.alg
			}
			body := "apis:\n  - { identifier: \"https://a/\" }\n  - { identifier: \"https://b/\"" + line + " }\n"
			cfg, err := loadFinal(t, body, nil)
			ps := problemsOf(t, err)
			if tt.problem == "" {
				if err != nil {
					t.Fatalf("Finalize: %v", err)
				}
				if got := cfg.API("https://b/").SigningAlg; got != tt.want {
					t.Fatalf("signing_alg = %q, want %q", got, tt.want)
				}
				return
			}
			if len(ps) != 1 || ps[0].Field != "apis[1].signing_alg" || !strings.Contains(ps[0].Message, tt.problem) {
				t.Fatalf("problems = %v, want apis[1].signing_alg: …%s…", ps, tt.problem)
			}
		})
	}
}

func TestAccessTokenAlgs(t *testing.T) {
	tests := []struct {
		name string
		apis string
		want []string
	}{
		{"none", "", nil},
		{"RS256 only", "  - { identifier: a }\n  - { identifier: b, signing_alg: RS256 }\n", nil},
		{"distinct, in file order", "  - { identifier: a, signing_alg: EdDSA }\n  - { identifier: b }\n  - { identifier: c, signing_alg: ES256 }\n  - { identifier: d, signing_alg: EdDSA }\n",
			[]string{"EdDSA", "ES256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := loadFinal(t, "apis:\n"+tt.apis, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.AccessTokenAlgs(); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("AccessTokenAlgs = %v, want %v", got, tt.want)
			}
		})
	}
}
