package guest

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tetratelabs/wazero/sys"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Errors returned by Load and Instantiate. Each is wrapped with the module's
// path and what exactly is wrong; test for them with errors.Is.
var (
	// ErrNotFound means the module file does not exist.
	ErrNotFound = errors.New("guest: module file not found")
	// ErrNotWasm means the file is not a WebAssembly module, or wazero
	// refused to compile it.
	ErrNotWasm = errors.New("guest: not a valid WebAssembly module")
	// ErrNotGuest means the module compiled but lacks the bxwasm exports
	// (or has them with the wrong signatures), or imports functions this
	// host does not provide.
	ErrNotGuest = errors.New("guest: not a bxwasm guest")
	// ErrTooLarge means the module file is over Config.MaxModuleSize.
	ErrTooLarge = errors.New("guest: module too large")
	// ErrMemoryLimit means the module needs more memory at start than
	// Config.MemoryLimitPages allows.
	ErrMemoryLimit = errors.New("guest: memory limit too low for module")
	// ErrABIVersion means the guest speaks another bxwasm ABI version.
	ErrABIVersion = errors.New("guest: ABI version mismatch")
	// ErrBadResponse means the guest answered a call with bytes the host
	// cannot use: a pointer or length outside its memory, an unknown status,
	// or a body that does not decode.
	ErrBadResponse = errors.New("guest: bad response")
	// ErrClosed means the instance was closed, or is unusable after a trap.
	ErrClosed = errors.New("guest: instance closed")
	// ErrConfig means a Config field is out of range.
	ErrConfig = errors.New("guest: bad config")
)

// TrapError is a call that did not return: the guest trapped (unreachable,
// out-of-bounds access, stack overflow), ran out of its memory limit,
// exited (a Go guest's unrecovered panic or fatal error exits with code 2),
// or was interrupted because its context was done. The instance is unusable
// afterwards.
type TrapError struct {
	// Op is the request that was running, or 0 for _initialize and the
	// ABI version query.
	Op abi.Op
	// Func is the export that trapped.
	Func string
	// Err is wazero's error; its message includes the wasm stack trace.
	Err error
	// Stderr is the tail of what the guest wrote to its standard error,
	// where Go guests print the panic message and goroutine stacks.
	Stderr string
	// Memory is the size of the guest's linear memory when it crashed,
	// and MemoryLimit the most it may grow to, in bytes.
	Memory, MemoryLimit uint64
	// Recorded is what the guest's optional bxwasm_last_error export
	// recorded before the trap (see lasterror.go), or nil.
	Recorded *abi.ErrorInfo
}

// Error says which call failed and why, then the guest's last words. A
// crash the guest recorded reads like the StatusError it stands for: the
// guest's message (the crash is in the stack of the *abi.GuestError that
// errors.As finds in it).
func (e *TrapError) Error() string {
	if e.Recorded != nil {
		return e.Recorded.Message
	}
	return e.crash()
}

// crash says which call failed and why, then the guest's last words.
func (e *TrapError) crash() string {
	var b strings.Builder
	fmt.Fprintf(&b, "guest crashed in %s", e.Func)
	if e.Op != 0 {
		fmt.Fprintf(&b, " (%s)", OpName(e.Op))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if e.MemoryLimit > 0 {
		fmt.Fprintf(&b, "\nguest memory: %d of %d MiB", e.Memory>>20, e.MemoryLimit>>20)
	}
	if s := strings.TrimSpace(crashReport(e.Stderr)); s != "" {
		fmt.Fprintf(&b, "\nguest stderr:\n%s", s)
	}
	return b.String()
}

// Summary is the first line of the error, without stacks.
func (e *TrapError) Summary() string {
	msg, _, _ := strings.Cut(e.Err.Error(), "\n")
	return fmt.Sprintf("guest crashed in %s: %s", e.Func, msg)
}

// Unwrap returns wazero's error, so errors.Is(err, context.DeadlineExceeded)
// holds for a guest interrupted by its context.
func (e *TrapError) Unwrap() error { return e.Err }

// ExitCode reports the code the guest exited with, and whether it exited
// (rather than trapped).
func (e *TrapError) ExitCode() (uint32, bool) {
	var ee *sys.ExitError
	if errors.As(e.Err, &ee) {
		return ee.ExitCode(), true
	}
	return 0, false
}

var opNames = map[abi.Op]string{
	abi.OpListFlows: "list_flows", abi.OpBuild: "build", abi.OpFuse: "fuse", abi.OpRunChain: "run_chain",
	abi.OpStatefulBatch: "stateful_batch", abi.OpNotify: "notify", abi.OpEOF: "eof",
	abi.OpSnapshot: "snapshot", abi.OpRestore: "restore", abi.OpListParts: "list_parts",
	abi.OpBuildPart: "build_part", abi.OpNextBatch: "next_batch", abi.OpWriteBatch: "write_batch",
	abi.OpPartSnapshot: "part_snapshot", abi.OpClosePart: "close_part",
}

// OpName returns a readable name of op for messages.
func OpName(op abi.Op) string {
	if n, ok := opNames[op]; ok {
		return n
	}
	return fmt.Sprintf("op %d", op)
}

// What a guest's ErrorInfo may make the host print and keep: a guest
// answering a megabyte-long message (or key, or stack) gets it cut, with
// the count of bytes left out, so a hostile or broken guest cannot flood
// the operator's terminal and logs through its errors.
const (
	maxErrorMessage = 4 << 10
	maxErrorKey     = 256
	maxErrorStack   = 64 << 10
)

// bounded is info with its strings cut to the limits above.
func bounded(info abi.ErrorInfo) abi.ErrorInfo {
	info.Message = clip(info.Message, maxErrorMessage)
	info.Key = clip(info.Key, maxErrorKey)
	info.Stack = clip(info.Stack, maxErrorStack)
	return info
}

// clip cuts s to at most n bytes, at the start of a UTF-8 sequence, and
// says how many bytes it left out.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("... (%d more bytes)", len(s)-cut)
}
