// Command wasirun runs a WASI command module (GOOS=wasip1, not c-shared)
// with wazero, the way bxwasm runs its guests: same runtime, same
// compiled-code cache. The benchmark runs the native baseline compiled to
// WebAssembly with it, to show how much of bxwasm's time is the cost of
// running Go as WebAssembly at all.
//
//	wasirun -cache DIR -dir DIR [-interruptible] module.wasm ARGS...
//
// -interruptible compiles the module with wazero's WithCloseOnContextDone,
// the in-process way to stop a guest stuck in a loop; the benchmark uses
// it to show what that costs Go guests.
//
// -dir is mounted into the module at the same path, so file arguments
// under it work unchanged. The module's standard output and error are the
// process's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

func main() {
	cache := flag.String("cache", "", "compiled-code cache directory")
	dir := flag.String("dir", "", "directory to mount at the same path")
	interruptible := flag.Bool("interruptible", false, "compile with wazero's WithCloseOnContextDone, which lets a done context stop running guest code")
	flag.Parse()
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: wasirun [-cache DIR] [-dir DIR] module.wasm ARGS...")
		os.Exit(2)
	}
	code, err := run(context.Background(), *cache, *dir, *interruptible, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "wasirun:", err)
	}
	os.Exit(code)
}

func run(ctx context.Context, cache, dir string, interruptible bool, args []string) (int, error) {
	cfg := wazero.NewRuntimeConfig().WithCloseOnContextDone(interruptible)
	if cache != "" {
		c, err := wazero.NewCompilationCacheWithDir(cache)
		if err != nil {
			return 1, err
		}
		cfg = cfg.WithCompilationCache(c)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	defer rt.Close(ctx)
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	bin, err := os.ReadFile(args[0])
	if err != nil {
		return 1, err
	}
	mc := wazero.NewModuleConfig().WithArgs(args...).
		WithStdout(os.Stdout).WithStderr(os.Stderr)
	if dir != "" {
		mc = mc.WithFSConfig(wazero.NewFSConfig().WithDirMount(dir, dir))
	}
	_, err = rt.InstantiateWithConfig(ctx, bin, mc)
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		return int(exit.ExitCode()), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
