package testutil

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// BuildWat assembles the WebAssembly text file path (relative to the
// calling test's directory, or absolute) with wat2wasm into the test's
// temporary directory and returns the .wasm's path. It fails the test when
// wat2wasm (Debian's wabt) is missing: go tool task test installs it.
func BuildWat(t testing.TB, path string) string {
	t.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Fatal("wat2wasm not found: install wabt (go tool task deps does, and go tool task test runs it)")
	}
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(path), ".wat")+".wasm")
	if b, err := exec.Command(tool, path, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v\n%s", path, err, b)
	}
	return out
}
