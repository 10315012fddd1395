// Package host is bxwasm's public Go API: load a guest module, list its
// flows, and run one on workers, as `bxwasm run` does, or from a Go test
// with in-memory inputs and captured outputs (TestRun, the analog of
// Bytewax's bytewax.testing.run_main).
//
//	err := host.Run(ctx, "wc.wasm", "get_flow('in.txt')", host.Options{WorkersPerProcess: 2})
//
// Guests are sandboxed: they get no files, network, environment or
// arguments; host connectors do the I/O, only under the working directory
// and the directories Options.AllowPaths grants.
//
// With Options.RecoveryDir a run snapshots its state into SQLite at every
// epoch and resumes from the last committed epoch when run again, on any
// number of processes and workers; closing Options.Stop stops it
// gracefully.
package host
