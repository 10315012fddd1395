package guest

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// Info describes a compiled module, for `bxwasm inspect` and for errors.
type Info struct {
	Path    string
	Size    int64    // bytes of the .wasm file
	Imports []string // imported functions as "module.name", sorted, each once
	Exports []string // exported functions and memories, sorted
}

// Module is a compiled guest, ready to instantiate once per worker. It is
// safe for concurrent use.
type Module struct {
	rt       *Runtime
	compiled wazero.CompiledModule
	info     Info
	hasInit  bool
	// sigErr is a bxwasm export with the wrong type; reported by
	// Instantiate after the ABI version, which explains it better when the
	// guest speaks another version.
	sigErr error
}

// exportSig is the expected type of a bxwasm export.
type exportSig struct {
	name            string
	params, results []api.ValueType
}

var (
	i32, i64    = api.ValueTypeI32, api.ValueTypeI64
	versionSig  = exportSig{abi.ExportVersion, nil, []api.ValueType{i32}}
	requiredSig = []exportSig{
		versionSig,
		{abi.ExportBuffer, []api.ValueType{i32}, []api.ValueType{i32}},
		{abi.ExportCall, []api.ValueType{i32}, []api.ValueType{i64}},
	}
	initSig = exportSig{abi.ExportInitialize, nil, nil}
)

// allowedImports are the host modules a guest may import functions from.
var allowedImports = map[string]bool{wasi_snapshot_preview1.ModuleName: true}

func newModule(r *Runtime, path string, size int64, c wazero.CompiledModule) (*Module, error) {
	m := &Module{rt: r, compiled: c, info: moduleInfo(path, size, c)}
	if err := m.checkImports(); err != nil {
		return nil, err
	}
	if err := m.checkExports(); err != nil {
		return nil, err
	}
	return m, nil
}

func moduleInfo(path string, size int64, c wazero.CompiledModule) Info {
	info := Info{Path: path, Size: size}
	for _, f := range c.ImportedFunctions() {
		mod, name, _ := f.Import()
		info.Imports = append(info.Imports, mod+"."+name)
	}
	for name := range c.ExportedFunctions() {
		info.Exports = append(info.Exports, name)
	}
	for name := range c.ExportedMemories() {
		info.Exports = append(info.Exports, name)
	}
	slices.Sort(info.Imports)
	info.Imports = slices.Compact(info.Imports) // Go guests import fd_write twice
	slices.Sort(info.Exports)
	return info
}

func (m *Module) checkImports() error {
	for _, f := range m.compiled.ImportedFunctions() {
		if mod, name, _ := f.Import(); !allowedImports[mod] {
			return fmt.Errorf("%w: %s imports %s.%s, which this host does not provide "+
				"(a guest may import only %s)", ErrNotGuest, m.info.Path, mod, name, wasi_snapshot_preview1.ModuleName)
		}
	}
	return nil
}

// checkExports refuses modules without the bxwasm exports and remembers
// exports of the wrong type for Instantiate.
func (m *Module) checkExports() error {
	fns := m.compiled.ExportedFunctions()
	var missing []string
	for _, s := range requiredSig {
		if fns[s.name] == nil {
			missing = append(missing, s.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s is a WebAssembly module but does not export %s; "+
			"build it with the bxwasm SDK", ErrNotGuest, m.info.Path, strings.Join(missing, ", "))
	}
	if len(m.compiled.ExportedMemories()) == 0 {
		return fmt.Errorf("%w: %s does not export its memory; build it with the bxwasm SDK", ErrNotGuest, m.info.Path)
	}
	if err := m.checkSig(fns, versionSig); err != nil {
		return err
	}
	for _, s := range requiredSig[1:] {
		if err := m.checkSig(fns, s); err != nil && m.sigErr == nil {
			m.sigErr = err
		}
	}
	m.checkLastError(fns)
	if fns[initSig.name] == nil {
		return nil
	}
	m.hasInit = true
	return m.checkSig(fns, initSig)
}

func (m *Module) checkSig(fns map[string]api.FunctionDefinition, s exportSig) error {
	f := fns[s.name]
	if slices.Equal(f.ParamTypes(), s.params) && slices.Equal(f.ResultTypes(), s.results) {
		return nil
	}
	return fmt.Errorf("%w: %s exports %s with type %s, want %s", ErrNotGuest, m.info.Path, s.name,
		sigString(f.ParamTypes(), f.ResultTypes()), sigString(s.params, s.results))
}

func sigString(params, results []api.ValueType) string {
	names := func(ts []api.ValueType) string {
		s := make([]string, len(ts))
		for i, t := range ts {
			s[i] = api.ValueTypeName(t)
		}
		return "(" + strings.Join(s, ", ") + ")"
	}
	return names(params) + " -> " + names(results)
}

// Info describes the module.
func (m *Module) Info() Info { return m.info }

// Close releases the compiled code. Instances already made keep working.
func (m *Module) Close(ctx context.Context) error { return m.compiled.Close(ctx) }

// Instantiate makes a fresh, sandboxed instance of the module: no files,
// network, environment or arguments; real clocks and crypto randomness.
// It runs the guest's _initialize and checks its ABI version.
func (m *Module) Instantiate(ctx context.Context) (*Instance, error) {
	return m.InstantiateWatched(ctx, nil)
}

// InstantiateWatched is Instantiate recording every call into the guest,
// its start function and _initialize included, in slot, where a
// supervising process sees how long each runs (see package watchdog).
func (m *Module) InstantiateWatched(ctx context.Context, slot *watchdog.Slot) (*Instance, error) {
	stderr := &tailWriter{next: m.rt.stderr}
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous, so many instances coexist
		WithStartFunctions().
		WithStdout(m.rt.stdout).
		WithStderr(stderr).
		WithSysWalltime().
		WithSysNanotime().
		WithSysNanosleep().
		WithRandSource(rand.Reader)
	slot.Enter(watchdog.KindPhase, uint32(watchdog.PhaseInstantiate))
	mod, err := m.rt.rt.InstantiateModule(withMemory(ctx), m.compiled, cfg)
	slot.Leave()
	if err != nil {
		return nil, fmt.Errorf("guest: instantiating %s: %w", m.info.Path, err)
	}
	i := newInstance(mod, m.info.Path, stderr, m.rt.cfg.MemoryLimitPages, slot)
	if err := m.start(ctx, i); err != nil {
		_ = i.Close(ctx)
		return nil, err
	}
	return i, nil
}

// start initializes the instance and checks that it speaks our ABI.
func (m *Module) start(ctx context.Context, i *Instance) error {
	if m.hasInit {
		i.kind, i.index = watchdog.KindPhase, uint32(watchdog.PhaseInitialize)
		if _, err := i.invoke(ctx, 0, abi.ExportInitialize, i.mod.ExportedFunction(abi.ExportInitialize), 0); err != nil {
			return err
		}
	}
	i.kind, i.index = watchdog.KindPhase, uint32(watchdog.PhaseVersion)
	v, err := i.invoke(ctx, 0, abi.ExportVersion, i.mod.ExportedFunction(abi.ExportVersion), 0)
	if err != nil {
		return err
	}
	i.version = int(api.DecodeI32(v))
	if i.version != abi.Version {
		return fmt.Errorf("%w: %s speaks bxwasm ABI v%d, this host speaks v%d; "+
			"rebuild it with a bxwasm SDK for ABI v%d", ErrABIVersion, m.info.Path, i.version, abi.Version, abi.Version)
	}
	return m.sigErr
}
