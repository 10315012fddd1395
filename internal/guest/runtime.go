package guest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// DefaultMemoryLimitPages is the memory limit of an instance when
// Config.MemoryLimitPages is 0: 4096 pages of 64 KiB, 256 MiB.
const DefaultMemoryLimitPages = 4096

// maxMemoryLimitPages is the most a 32-bit linear memory can hold (4 GiB).
const maxMemoryLimitPages = 65536

// Config configures a Runtime. The zero value is valid: no compilation
// cache, 256 MiB per instance, guest output discarded.
type Config struct {
	// CacheDir is a directory for wazero's on-disk compilation cache, so a
	// module is compiled to machine code once across runs; "" disables it.
	CacheDir string
	// MemoryLimitPages bounds each instance's linear memory, in 64 KiB
	// pages; 0 means DefaultMemoryLimitPages. A guest that needs more fails
	// with a TrapError.
	MemoryLimitPages uint32
	// Stdout and Stderr receive what guests write to fd 1 and 2; nil
	// discards it. Writes of all instances are serialized.
	Stdout, Stderr io.Writer
	// MaxModuleSize refuses module files larger than this many bytes
	// before reading them; 0 means DefaultMaxModuleSize.
	MaxModuleSize int64
	// Watch, when set, records compilation in its process slot, where a
	// supervising process sees how long it runs (see package watchdog).
	Watch *watchdog.Table
	// CloseOnContextDone interrupts running guest code when the call's
	// context is done. It makes every call and loop iteration in the guest
	// markedly slower (about 9x on tight loops), so it is off by default;
	// without it a done context is noticed only between calls.
	CloseOnContextDone bool
}

// DefaultMaxModuleSize is the largest module file Load reads when
// Config.MaxModuleSize is 0: 64 MiB.
const DefaultMaxModuleSize = 64 << 20

// Validate fills in defaults and checks ranges.
func (c *Config) Validate() error {
	if c.MemoryLimitPages == 0 {
		c.MemoryLimitPages = DefaultMemoryLimitPages
	}
	if c.MaxModuleSize == 0 {
		c.MaxModuleSize = DefaultMaxModuleSize
	}
	if c.MaxModuleSize < 0 {
		return fmt.Errorf("%w: module size limit of %d bytes", ErrConfig, c.MaxModuleSize)
	}
	if c.MemoryLimitPages > maxMemoryLimitPages {
		return fmt.Errorf("%w: memory limit of %d pages is over the %d pages (4 GiB) a WebAssembly memory can hold",
			ErrConfig, c.MemoryLimitPages, maxMemoryLimitPages)
	}
	return nil
}

// Runtime compiles and instantiates guest modules. Use one per process; it
// is safe for concurrent use.
type Runtime struct {
	cfg    Config
	rt     wazero.Runtime
	cache  wazero.CompilationCache
	stdout *lockedWriter
	stderr *lockedWriter
}

// NewRuntime creates a runtime with WASI preview 1 available to guests.
func NewRuntime(ctx context.Context, cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runtime{cfg: cfg, stdout: newLockedWriter(cfg.Stdout), stderr: newLockedWriter(cfg.Stderr)}
	rc := wazero.NewRuntimeConfig().
		WithMemoryLimitPages(cfg.MemoryLimitPages).
		WithCloseOnContextDone(cfg.CloseOnContextDone)
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("guest: compilation cache in %s: %w", cfg.CacheDir, err)
		}
		r.cache, rc = cache, rc.WithCompilationCache(cache)
	}
	r.rt = wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r.rt); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("guest: instantiating WASI: %w", err)
	}
	return r, nil
}

// Close closes every module and instance of the runtime, and the
// compilation cache.
func (r *Runtime) Close(ctx context.Context) error {
	err := r.rt.Close(ctx)
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(ctx))
	}
	return err
}

// wasmMagic starts every WebAssembly binary.
var wasmMagic = []byte("\x00asm")

// Load reads and compiles the module at path (from the compilation cache
// when it has it) and checks that it is a bxwasm guest. The ABI version is
// checked by Instantiate, which runs guest code.
func (r *Runtime) Load(ctx context.Context, path string) (*Module, error) {
	bin, err := r.read(path)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(bin, wasmMagic) {
		return nil, fmt.Errorf("%w: %s does not start with the WebAssembly magic bytes \\0asm; "+
			"build the flow for GOOS=wasip1 GOARCH=wasm (or your language's wasm32-wasi target)", ErrNotWasm, path)
	}
	slot := r.cfg.Watch.ProcessSlot()
	slot.Enter(watchdog.KindPhase, uint32(watchdog.PhaseCompile))
	compiled, err := r.rt.CompileModule(ctx, bin)
	slot.Leave()
	if err != nil {
		return nil, r.compileError(path, err)
	}
	m, err := newModule(r, path, int64(len(bin)), compiled)
	if err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	return m, nil
}

// read reads the module file, refusing one over the size limit before
// reading it.
func (r *Runtime) read(path string) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return nil, fmt.Errorf("guest: reading module: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("guest: reading module: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: reading module: %s is not a regular file", ErrNotWasm, path)
	}
	if st.Size() > r.cfg.MaxModuleSize {
		return nil, fmt.Errorf("%w: %s is %d bytes, over the %d MiB limit on modules; "+
			"raise it with --max-module-size if the module is trusted", ErrTooLarge, path, st.Size(), r.cfg.MaxModuleSize>>20)
	}
	bin, err := io.ReadAll(io.LimitReader(f, r.cfg.MaxModuleSize+1))
	if err != nil {
		return nil, fmt.Errorf("guest: reading module: %w", err)
	}
	if int64(len(bin)) > r.cfg.MaxModuleSize {
		return nil, fmt.Errorf("%w: %s grew past the %d MiB limit on modules while it was read", ErrTooLarge, path, r.cfg.MaxModuleSize>>20)
	}
	return bin, nil
}

// compileError classifies wazero's reason for refusing a module.
func (r *Runtime) compileError(path string, err error) error {
	// wazero: "section memory: min 39 pages (2 Mi) over limit of 16 pages (1 Mi)"
	if strings.Contains(err.Error(), "over limit") {
		return fmt.Errorf("%w: %s: %v; raise the memory limit (it is %d MiB)",
			ErrMemoryLimit, path, err, r.cfg.MemoryLimitPages>>4)
	}
	return fmt.Errorf("%w: %s: %v", ErrNotWasm, path, err)
}
