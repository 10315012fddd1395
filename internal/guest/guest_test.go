package guest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/bxwasm/bxwasm/internal/testutil"
)

// newRuntime makes a runtime closed at the end of the test, sharing the
// test process's compilation cache unless cfg names another.
func newRuntime(t testing.TB, cfg Config) *Runtime {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = testutil.CacheDir(t)
	}
	rt, err := NewRuntime(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = rt.Close(context.Background())
		loaded.Range(func(k, _ any) bool {
			if k.(moduleKey).rt == rt {
				loaded.Delete(k)
			}
			return true
		})
	})
	return rt
}

// guestPath builds testdata/<name> and returns the .wasm path.
func guestPath(t testing.TB, name string) string {
	t.Helper()
	return testutil.BuildWasm(t, filepath.Join("testdata", name))
}

// loaded memoizes load per runtime: a Module is instantiated many times.
var loaded sync.Map // moduleKey -> *Module

type moduleKey struct {
	rt   *Runtime
	name string
}

// load compiles testdata/<name> in rt, once per runtime.
func load(t testing.TB, rt *Runtime, name string) *Module {
	t.Helper()
	key := moduleKey{rt, name}
	if m, ok := loaded.Load(key); ok {
		return m.(*Module)
	}
	m, err := rt.Load(context.Background(), guestPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	loaded.Store(key, m)
	return m
}

func instantiate(t testing.TB, rt *Runtime, name string) *Instance {
	t.Helper()
	i, err := load(t, rt, name).Instantiate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = i.Close(context.Background()) })
	return i
}

// importsEnv is a hand-assembled module that imports env.foo:
// magic, version, a type section with () -> (), an import section.
var importsEnv = []byte{
	0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
	0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
	0x02, 0x0b, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'f', 'o', 'o', 0x00, 0x00,
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		path  func(t *testing.T) string
		want  error
		msg   []string // substrings of the message
		limit uint32   // Config.MemoryLimitPages
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope.wasm") },
			ErrNotFound, []string{"module file not found", "nope.wasm"}, 0},
		{"directory", func(t *testing.T) string { return t.TempDir() }, nil, []string{"reading module"}, 0},
		{"text file", func(t *testing.T) string { return filepath.Join("testdata", "notwasm.txt") },
			ErrNotWasm, []string{"notwasm.txt", "magic", "GOOS=wasip1"}, 0},
		{"truncated wasm", func(t *testing.T) string { return writeFile(t, "t.wasm", []byte("\x00asm\x01\x00\x00\x00\x01\x7f")) },
			ErrNotWasm, []string{"t.wasm"}, 0},
		{"plain reactor", func(t *testing.T) string { return guestPath(t, "plain") },
			ErrNotGuest, []string{"not a bxwasm guest: ", "plain.wasm is a WebAssembly module but does not export",
				"bxwasm_abi_version, bxwasm_buffer, bxwasm_call", "bxwasm SDK"}, 0},
		{"foreign import", func(t *testing.T) string { return writeFile(t, "imp.wasm", importsEnv) },
			ErrNotGuest, []string{"imp.wasm imports env.foo", "wasi_snapshot_preview1"}, 0},
		{"memory limit below initial memory", func(t *testing.T) string { return guestPath(t, "echo") },
			ErrMemoryLimit, []string{"echo.wasm", "over limit of 16 pages", "raise the memory limit (it is 1 MiB)"}, 16},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := newRuntime(t, Config{MemoryLimitPages: tc.limit})
			_, err := rt.Load(t.Context(), tc.path(t))
			checkErr(t, err, tc.want, tc.msg)
		})
	}
}

// checkErr fails unless err is non-nil, wraps want (when not nil) and
// contains every substring of msg.
func checkErr(t *testing.T, err, want error, msg []string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	t.Log(err)
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("error %q is not %q", err, want)
	}
	for _, m := range msg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not say %q", err, m)
		}
	}
}

func TestInstantiateErrors(t *testing.T) {
	rt := newRuntime(t, Config{})
	tests := []struct {
		guest string
		want  error
		msg   []string
	}{
		{"abiv2", ErrABIVersion, []string{"abiv2.wasm speaks bxwasm ABI v2, this host speaks v1"}},
		{"badsig", ErrNotGuest, []string{"badsig.wasm exports bxwasm_call with type (i32) -> (i32), want (i32) -> (i64)"}},
	}
	for _, tc := range tests {
		t.Run(tc.guest, func(t *testing.T) {
			_, err := load(t, rt, tc.guest).Instantiate(t.Context())
			checkErr(t, err, tc.want, tc.msg)
		})
	}
}

func TestInfo(t *testing.T) {
	rt := newRuntime(t, Config{})
	m := load(t, rt, "echo")
	info := m.Info()
	if info.Path != guestPath(t, "echo") || info.Size < 1000 {
		t.Errorf("path %q size %d", info.Path, info.Size)
	}
	for _, e := range []string{"_initialize", "bxwasm_abi_version", "bxwasm_buffer", "bxwasm_call", "memory"} {
		if !slices.Contains(info.Exports, e) {
			t.Errorf("exports %v lack %s", info.Exports, e)
		}
	}
	if !slices.Contains(info.Imports, "wasi_snapshot_preview1.fd_write") {
		t.Errorf("imports %v lack fd_write", info.Imports)
	}
	if !slices.IsSorted(info.Imports) || !slices.IsSorted(info.Exports) {
		t.Error("imports or exports not sorted")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name      string
		pages     uint32
		wantPages uint32
		wantErr   bool
	}{
		{"default", 0, DefaultMemoryLimitPages, false},
		{"small", 16, 16, false},
		{"4 GiB", 65536, 65536, false},
		{"over 4 GiB", 65537, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := Config{MemoryLimitPages: tc.pages}
			err := c.Validate()
			if tc.wantErr {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("err = %v, want ErrConfig", err)
				}
				return
			}
			if err != nil || c.MemoryLimitPages != tc.wantPages {
				t.Fatalf("err %v pages %d, want %d", err, c.MemoryLimitPages, tc.wantPages)
			}
		})
	}
}
