// Package guest runs bxwasm guest modules with wazero. It is the only
// package that imports wazero: it compiles a module (through an on-disk
// compilation cache), instantiates it once per worker in a sandbox, and
// turns every abi.Op into a typed call that checks everything the guest
// hands back.
//
// # Use
//
//	rt, err := guest.NewRuntime(ctx, guest.Config{CacheDir: dir})
//	defer rt.Close(ctx)
//	mod, err := rt.Load(ctx, "flow.wasm")     // ErrNotFound, ErrNotWasm, ErrNotGuest, ErrMemoryLimit
//	inst, err := mod.Instantiate(ctx)         // one per worker; ErrABIVersion
//	defer inst.Close(ctx)
//	flows, err := inst.ListFlows(ctx)
//	g, err := inst.Build(ctx, abi.BuildRequest{Flow: "flow"})
//	out, err := inst.RunChain(ctx, abi.ChainRequest{Chain: 0, Batch: batch})
//
// A Runtime and a Module are safe for concurrent use; an Instance belongs to
// one goroutine. Batches and byte slices returned by an Instance alias its
// response buffer and are valid until its next call: copy what must live
// longer.
//
// # A call
//
// Call writes the request (op byte + body) into the buffer the guest's
// bxwasm_buffer returns, runs bxwasm_call, bounds-checks the ptr<<32|len it
// returns against guest memory, and copies the response out before anything
// else runs:
//
//	host                         guest memory
//	 w.B = op|body  ─ write ─▶   [ bxwasm_buffer(len) ... ]
//	 bxwasm_call(len) ─────────▶ runs the op, leaves its answer at ptr
//	 resp = copy  ◀── read ───   [ ptr: status|body ... ]    (ok-checked)
//
// Each wrapper (client.go) reuses one Writer for requests and one buffer for
// responses, so a call allocates only what decoding the answer needs.
//
// # Errors
//
// Load and Instantiate name the file and what is wrong with it. During a
// call there are three kinds of failure: an *abi.GuestError is the guest's own
// report (a recovered panic; the instance stays usable); a *TrapError is a
// crash (trap, memory limit, exit, or a done context with
// Config.CloseOnContextDone) that quotes wazero's wasm stack and the
// guest's last stderr output, after which the instance fails every call
// with ErrClosed; ErrBadResponse is a response the host cannot use (pointer
// outside memory or a request buffer at 0, unknown status, malformed
// body). Nothing a guest returns can make the host panic. A guest that
// exports bxwasm_last_error tells the host after a trap what it recorded;
// the TrapError then reads as that ErrorInfo's message and errors.As finds
// an *abi.GuestError in it, so the engine reports it as a StatusError.
//
// # Sandbox
//
// Guests get WASI preview 1 only, with no preopened directories, no
// environment, no arguments and no sockets; real wall and monotonic clocks,
// real sleep, and crypto/rand randomness. Their stdout and stderr go to
// Config.Stdout and Config.Stderr. Linear memory is capped by
// Config.MemoryLimitPages. A module that imports anything besides
// wasi_snapshot_preview1 is refused at load time.
//
// CPU is not bounded by default: wazero has no fuel, and
// Config.CloseOnContextDone, which lets a done context interrupt running
// guest code, slows guest code down several times. Without it a cancelled
// context is noticed before the next call.
package guest
