// Package testutil builds guest modules from source for tests, so every test
// that runs a guest runs one compiled in the same test run.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
)

// BuildWasm compiles the Go guest package in dir (a path relative to the
// calling test's directory, or absolute) with GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared and returns the path of the .wasm. Builds are shared
// by all tests of the process.
func BuildWasm(t testing.TB, dir string) string {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if out, ok := built[abs]; ok {
		return out
	}
	outDir, err := os.MkdirTemp("", "bxwasm-test-wasm-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(outDir, filepath.Base(abs)+".wasm")
	// go test puts its own toolchain first on PATH.
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building guest %s: %v\n%s", dir, err, strings.TrimSpace(string(b)))
	}
	built[abs] = out
	return out
}

// CacheDir returns a wazero compilation cache directory shared by all test
// processes and kept between runs (under the user cache directory), so each
// guest is compiled to machine code once; wazero keys entries by the
// module's hash and its own version.
func CacheDir(t testing.TB) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "bxwasm-test")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}
