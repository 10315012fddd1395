package flowspec

import (
	"os"
	"path/filepath"
	"testing"
)

func TestSplitTarget(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "flows.bin")
	if err := os.WriteFile(bin, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		arg        string
		wantModule string
		wantSpec   string
	}{
		{"module only", "wc.wasm", "wc.wasm", ""},
		{"module and flow", "wc.wasm:flow", "wc.wasm", "flow"},
		{"colon inside spec", "wc.wasm:get_flow('a:b')", "wc.wasm", "get_flow('a:b')"},
		{"empty spec", "wc.wasm:", "wc.wasm", ""},
		{"first .wasm: wins", "a.wasm:f('b.wasm:c')", "a.wasm", "f('b.wasm:c')"},
		{"path with dirs", "bin/wc.wasm:flow", "bin/wc.wasm", "flow"},
		{"existing file without .wasm", bin + ":get_flow('x:y')", bin, "get_flow('x:y')"},
		{"missing file without .wasm", filepath.Join(dir, "nope") + ":flow", filepath.Join(dir, "nope") + ":flow", ""},
		{"directory is not a module", dir + ":flow", dir + ":flow", ""},
		{"leading colon", ":flow", ":flow", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, s := SplitTarget(tt.arg)
			if m != tt.wantModule || s != tt.wantSpec {
				t.Fatalf("SplitTarget(%q) = %q, %q; want %q, %q", tt.arg, m, s, tt.wantModule, tt.wantSpec)
			}
		})
	}
}
