package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/alecthomas/kong"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; otherwise the module's version.
var version = ""

// exitCode is how kong's exit calls unwind through run.
type exitCode int

// run parses args, runs the command and returns the process's exit code.
// Errors print as "bxwasm: error: <message>" and exit 1.
func run(ctx context.Context, args []string, s streams) (code int) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitCode)
			if !ok {
				panic(r)
			}
			code = int(c)
		}
	}()
	var c cli
	k, err := parser(&c, s)
	if err != nil {
		return fail(s, err)
	}
	kctx, err := k.Parse(args)
	if err != nil {
		return fail(s, err)
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	s.args = args
	if err := kctx.Run(s); err != nil {
		return fail(s, explain(ctx, err))
	}
	return 0
}

// parser builds the kong parser, writing to s and never exiting.
func parser(c *cli, s streams) (*kong.Kong, error) {
	return kong.New(c,
		kong.Name("bxwasm"),
		kong.Description(description),
		kong.Writers(s.out, s.err),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
		kong.Vars{"version": versionString()},
		defaultVars,
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
}

// explain rewords the errors of an interrupted run.
func explain(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return errors.New("interrupted")
	}
	return err
}

func fail(s streams, err error) int {
	if !errors.Is(err, errReported) {
		fmt.Fprintf(s.err, "bxwasm: error: %v\n", err)
	}
	return 1
}

// errReported fails a command whose error was already printed elsewhere
// (by another process of the cluster).
var errReported = errors.New("reported by another process")

// versionString is what --version prints.
func versionString() string {
	v := version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	return fmt.Sprintf("bxwasm %s (abi v%d, %s %s/%s)", v, abi.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
