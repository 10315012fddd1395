//go:build linux

package main

import (
	"errors"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		check   func(Config) bool
		wantErr error
	}{
		{"defaults", nil, func(c Config) bool {
			return c.Lines == 1_000_000 && c.Vocab == 5_000 && c.Kills == 20 && c.MaxWait == 3*time.Second &&
				c.Rescale && c.Recovery && !c.FromOutput && !c.FromCommit && c.Epoch == 200*time.Millisecond
		}, nil},
		{"overrides", []string{"-kills", "3", "-lines=10", "-max-wait", "1.5s", "-rescale=false", "-from-output", "-from-commit"},
			func(c Config) bool {
				return c.Kills == 3 && c.Lines == 10 && c.MaxWait == 1500*time.Millisecond && !c.Rescale && c.FromOutput && c.FromCommit
			}, nil},
		{"stray argument", []string{"extra"}, nil, ErrConfig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parseFlags(tc.args)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("got %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(cfg) {
				t.Fatalf("got %+v, %v", cfg, err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
