package cluster

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestParseProcessID(t *testing.T) {
	for _, tc := range []struct {
		name    string
		env     map[string]string
		want    int
		ok      bool
		wantErr bool
	}{
		{"nothing set", nil, 0, false, false},
		{"supervised", map[string]string{EnvProcessID: "3"}, 3, true, false},
		{"statefulset pod", map[string]string{EnvPodName: "flow-2", EnvStatefulSetName: "flow"}, 2, true, false},
		{"dashed statefulset", map[string]string{EnvPodName: "my-flow-10", EnvStatefulSetName: "my-flow"}, 10, true, false},
		{"process id wins", map[string]string{EnvProcessID: "1", EnvPodName: "flow-2", EnvStatefulSetName: "flow"}, 1, true, false},
		{"pod without statefulset", map[string]string{EnvPodName: "flow-2"}, 0, false, false},
		{"pod of another set", map[string]string{EnvPodName: "other-2", EnvStatefulSetName: "flow"}, 0, false, true},
		{"pod suffix not a number", map[string]string{EnvPodName: "flow-x", EnvStatefulSetName: "flow"}, 0, false, true},
		{"negative id", map[string]string{EnvProcessID: "-1"}, 0, false, true},
		{"garbage id", map[string]string{EnvProcessID: "one"}, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, ok, err := ParseProcessID(func(k string) string { return tc.env[k] })
			if (err != nil) != tc.wantErr || (err != nil && !errors.Is(err, ErrConfig)) {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if id != tc.want || ok != tc.ok {
				t.Fatalf("got %d, %v; want %d, %v", id, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestProcessIDFromEnv(t *testing.T) {
	t.Setenv(EnvProcessID, "")
	t.Setenv(EnvPodName, "flow-2")
	t.Setenv(EnvStatefulSetName, "flow")
	if id, ok := ProcessIDFromEnv(); id != 2 || !ok {
		t.Fatalf("ProcessIDFromEnv = %d, %v; want 2, true", id, ok)
	}
	t.Setenv(EnvPodName, "flow-x")
	if id, ok := ProcessIDFromEnv(); ok {
		t.Fatalf("ProcessIDFromEnv = %d, true; want false for a bad pod name", id)
	}
}

func TestAddressesFromFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		want    []string
		wantErr error
	}{
		{"plain", "h1:2101\nh2:2101\n", []string{"h1:2101", "h2:2101"}, nil},
		{"blank lines and spaces", "\n  h1:2101 \r\n\n\th2:2101\n\n", []string{"h1:2101", "h2:2101"}, nil},
		{"no final newline", "h1:2101", []string{"h1:2101"}, nil},
		{"empty", "\n \n", nil, ErrNoAddresses},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "hosts")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := AddressesFromFile(path)
			if !errors.Is(err, tc.wantErr) || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
	if _, err := AddressesFromFile(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v, want os.ErrNotExist", err)
	}
}
