package store_test

import (
	"testing"
	"testing/fstest"

	"github.com/latch-auth/latch/internal/store"
)

func TestLoadMigrations(t *testing.T) {
	file := func(body string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(body)} }
	cases := []struct {
		name    string
		files   fstest.MapFS
		want    []string
		wantErr bool
	}{
		{"in order", fstest.MapFS{"m/0002_b.sql": file("B"), "m/0001_a.sql": file("A")}, []string{"0001_a.sql", "0002_b.sql"}, false},
		{"gap", fstest.MapFS{"m/0001_a.sql": file("A"), "m/0003_c.sql": file("C")}, nil, true},
		{"bad name", fstest.MapFS{"m/init.sql": file("A")}, nil, true},
		{"zero", fstest.MapFS{"m/0000_a.sql": file("A")}, nil, true},
		{"no folder", fstest.MapFS{}, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := store.LoadMigrations(tc.files, "m")
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %v, want an error", ms)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != len(tc.want) {
				t.Fatalf("got %d migrations, want %d", len(ms), len(tc.want))
			}
			for i, m := range ms {
				if m.Name != tc.want[i] || m.Version != i+1 {
					t.Fatalf("migration %d = %+v, want %s version %d", i, m, tc.want[i], i+1)
				}
			}
		})
	}
}
