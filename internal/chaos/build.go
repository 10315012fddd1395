//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// ErrBuild is returned when bxwasm or the flow does not build.
var ErrBuild = errors.New("chaos: build failed")

// flowDir is the flow's package, relative to the module root.
const flowDir = "internal/chaos/testdata/flow"

// goTool returns the go command: the one on PATH, else the one of the
// toolchain that built this program.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	//lint:ignore SA1019 only a fallback for a harness run by go run, on the machine whose toolchain built it
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// moduleRoot returns the directory of the go.mod of the working directory.
func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, goTool(), "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("%w: not inside the bxwasm module (go env GOMOD: %q, %v)", ErrBuild, mod, err)
	}
	return filepath.Dir(mod), nil
}

// goBuild runs go build in dir with env added, writing out.
func goBuild(ctx context.Context, dir, out string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, goTool(), append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%w: %s: %v\n%s", ErrBuild, out, err, strings.TrimSpace(msg.String()))
	}
	return nil
}

// buildBxwasm builds the bxwasm command of the module at root into out.
func buildBxwasm(ctx context.Context, root, out string) error {
	return goBuild(ctx, root, out, nil, "./cmd/bxwasm")
}

// buildFlow builds the chaos flow of the module at root into out.
func buildFlow(ctx context.Context, root, out string) error {
	env := []string{"GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0"}
	return goBuild(ctx, filepath.Join(root, flowDir), out, env, "-buildmode=c-shared", ".")
}

// execOutput runs name with args and returns its standard output and
// error together.
func execOutput(ctx context.Context, name string, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	return string(out), err
}
