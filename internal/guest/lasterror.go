package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// This file holds what the host does around a guest's trap and its
// request buffer beyond the plain call: the optional bxwasm_last_error
// export, through which a guest that cannot catch its panics (Rust, C,
// AssemblyScript) tells the host what went wrong before it traps, and the
// refusal of a request buffer at address 0.

// lastErrorSig is the type of the optional bxwasm_last_error export.
var lastErrorSig = exportSig{abi.ExportLastError, nil, []api.ValueType{i64}}

// checkLastError remembers a bxwasm_last_error export of the wrong type
// for Instantiate, which reports it after the ABI version like the other
// export type errors: a module is refused at load time, not at its first
// trap.
func (m *Module) checkLastError(fns map[string]api.FunctionDefinition) {
	if fns[lastErrorSig.name] == nil {
		return
	}
	if err := m.checkSig(fns, lastErrorSig); err != nil && m.sigErr == nil {
		m.sigErr = err
	}
}

// lastError asks a guest whose call just trapped what it recorded before
// the trap, through bxwasm_last_error, on the same instance and under the
// same watch as the call that trapped (a last_error that never returns
// stops at the call timeout like any call). It returns nil, leaving the
// plain trap report, when the guest has no such export, exited (its
// module is closed; a done context with Config.CloseOnContextDone is an
// exit too), recorded nothing (0), traps again, or points at bytes that are
// outside its memory or do not decode exactly as an ErrorInfo body.
func (i *Instance) lastError(ctx context.Context, trap error) *abi.ErrorInfo {
	var exit *sys.ExitError
	if i.lastFn == nil || errors.As(trap, &exit) {
		return nil
	}
	i.stack[0] = 0
	i.slot.Enter(i.kind, i.index)
	err := i.lastFn.CallWithStack(ctx, i.stack)
	i.slot.Leave()
	res := i.stack[0]
	if err != nil || res == 0 {
		return nil
	}
	b, ok := i.mem.Read(uint32(res>>32), uint32(res))
	if !ok {
		return nil
	}
	r := abi.NewReader(b)
	info := abi.ReadErrorInfo(r) // copies its strings out of guest memory
	if r.End() != nil {
		return nil
	}
	info = bounded(info)
	return &info
}

// As lets errors.As find an *abi.GuestError in a crash the guest recorded:
// the recorded ErrorInfo, its stack followed by the crash (wazero's
// message and wasm stack, the guest's stderr), so the engine reports it as
// it reports a StatusError with that ErrorInfo.
func (e *TrapError) As(target any) bool {
	p, ok := target.(**abi.GuestError)
	if !ok || e.Recorded == nil {
		return false
	}
	info := *e.Recorded
	info.Stack = strings.TrimLeft(info.Stack+"\n\n"+e.crash(), "\n")
	*p = &abi.GuestError{Info: info}
	return true
}

// badBuffer explains a request buffer the host refuses: address 0 (a guest
// that could not allocate; the ABI asks it to trap instead) or one outside
// the guest's memory.
func (i *Instance) badBuffer(ptr uint32, n int) error {
	if ptr == 0 {
		return fmt.Errorf("%w: %s returned 0 for a %d-byte request; a guest that cannot allocate the buffer "+
			"must trap, and the host never writes at address 0", ErrBadResponse, abi.ExportBuffer, n)
	}
	return fmt.Errorf("%w: %s returned %#x for a %d-byte request, outside the guest's %d bytes of memory",
		ErrBadResponse, abi.ExportBuffer, ptr, n, i.mem.Size())
}
