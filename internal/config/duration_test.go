package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationYAML(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"36000s", 36000 * time.Second, ""},
		{"72h", 72 * time.Hour, ""},
		{"10m", 10 * time.Minute, ""},
		{"0s", 0, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"500ms", 500 * time.Millisecond, ""},
		{"86400", 86400 * time.Second, ""},
		{"0", 0, ""},
		{`"3600"`, time.Hour, ""},
		{"0x10", 16 * time.Second, ""},
		{"~", 0, ""},
		{"-1s", 0, "negative"},
		{"-5", 0, "negative"},
		{"10", 10 * time.Second, ""},
		{"1.5", 0, "invalid duration"},
		{"10 days", 0, "invalid duration"},
		{"true", 0, "invalid duration"},
		{"9223372036854775807", 0, "too large"},
		{"99999999999h", 0, "invalid duration"},
		{"{a: 1}", 0, "want a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			var v struct {
				D Duration `yaml:"d"`
			}
			err := yaml.Unmarshal([]byte("d: "+tt.in), &v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), "line 1") {
					t.Errorf("err %q has no line", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if v.D.D() != tt.want {
				t.Errorf("got %v, want %v", v.D.D(), tt.want)
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{72 * time.Hour, "72h"},
		{10 * time.Minute, "10m"},
		{36000 * time.Second, "10h"},
		{86401 * time.Second, "86401s"},
		{1500 * time.Millisecond, "1.5s"},
	}
	for _, tt := range tests {
		d := Duration(tt.d)
		if got := d.String(); got != tt.want {
			t.Errorf("%v: String() = %q, want %q", tt.d, got, tt.want)
		}
		out, err := yaml.Marshal(struct{ D Duration }{d})
		if err != nil {
			t.Fatal(err)
		}
		var back struct{ D Duration }
		if err := yaml.Unmarshal(out, &back); err != nil || back.D != d {
			t.Errorf("%v: round trip via %q = %v, %v", tt.d, out, back.D, err)
		}
		var txt Duration
		b, _ := d.MarshalText()
		if err := txt.UnmarshalText(b); err != nil || txt != d {
			t.Errorf("%v: text round trip = %v, %v", tt.d, txt, err)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for _, bad := range []string{"", " ", "-1s", "1d", "s"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
	if d, err := ParseDuration(" 45 "); err != nil || d.D() != 45*time.Second {
		t.Errorf("ParseDuration(\" 45 \") = %v, %v", d, err)
	}
}
