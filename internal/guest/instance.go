package guest

import (
	"context"
	"fmt"
	"math"

	"github.com/tetratelabs/wazero/api"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// Instance is one instantiated guest, owned by one worker. It is not safe
// for concurrent use: wazero functions are not, and responses live in a
// buffer the next call overwrites.
type Instance struct {
	mod      api.Module
	mem      api.Memory
	path     string
	bufFn    api.Function
	callFn   api.Function
	lastFn   api.Function // bxwasm_last_error, or nil
	stderr   *tailWriter
	version  int
	memLimit uint64 // bytes

	stack []uint64   // reused for every call into the guest
	w     abi.Writer // reused by the typed wrappers to encode requests
	resp  []byte     // the last response, copied out of guest memory
	r     abi.Reader // reads resp

	closed bool
	broken *TrapError // the crash that made the instance unusable

	// slot is where calls are recorded for a supervisor (nil: nowhere),
	// with the label of the call begin prepared.
	slot  *watchdog.Slot
	kind  watchdog.Kind
	index uint32
}

func newInstance(mod api.Module, path string, stderr *tailWriter, limitPages uint32, slot *watchdog.Slot) *Instance {
	return &Instance{
		slot:     slot,
		memLimit: uint64(limitPages) << 16,
		mod:      mod,
		mem:      mod.Memory(),
		path:     path,
		bufFn:    mod.ExportedFunction(abi.ExportBuffer),
		callFn:   mod.ExportedFunction(abi.ExportCall),
		lastFn:   mod.ExportedFunction(abi.ExportLastError),
		stderr:   stderr,
		stack:    make([]uint64, 1),
	}
}

// ABIVersion is the ABI version the guest reported.
func (i *Instance) ABIVersion() int { return i.version }

// Close frees the instance's memory. It is safe to call more than once.
func (i *Instance) Close(ctx context.Context) error {
	if i.closed {
		return nil
	}
	i.closed = true
	return i.mod.Close(ctx)
}

// Call sends one request (an abi.Op byte and the op's body) to the guest
// and returns a reader over the response body, after the status byte. The
// body is a copy owned by the Instance, valid until the next call.
//
// A StatusError response is returned as an *abi.GuestError, a crash as a
// *TrapError (after which every call fails with ErrClosed), and a response
// the host cannot read as an error wrapping ErrBadResponse. A done context
// is reported before the guest is entered.
func (i *Instance) Call(ctx context.Context, req []byte) (*abi.Reader, error) {
	if err := i.usable(ctx, req); err != nil {
		return nil, err
	}
	op := abi.Op(req[0])
	ptr, err := i.invoke(ctx, op, abi.ExportBuffer, i.bufFn, uint64(len(req)))
	if err != nil {
		return nil, err
	}
	if p := api.DecodeU32(ptr); p == 0 || !i.mem.Write(p, req) {
		return nil, i.badBuffer(p, len(req))
	}
	res, err := i.invoke(ctx, op, abi.ExportCall, i.callFn, uint64(len(req)))
	if err != nil {
		return nil, err
	}
	if err := i.copyResponse(op, uint32(res>>32), uint32(res)); err != nil {
		return nil, err
	}
	return i.status(op)
}

// usable refuses calls on a closed or crashed instance, with a done
// context, or with a request that cannot be sent.
func (i *Instance) usable(ctx context.Context, req []byte) error {
	switch {
	case i.closed:
		return ErrClosed
	case i.broken != nil:
		return fmt.Errorf("%w after an earlier crash: %s", ErrClosed, i.broken.Summary())
	case len(req) == 0:
		return fmt.Errorf("guest: empty request: a request starts with an op byte")
	case len(req) > math.MaxInt32:
		return fmt.Errorf("guest: request of %d bytes is over the 2 GiB a call can carry", len(req))
	}
	return ctx.Err()
}

// invoke calls a one-argument (or no-argument) export and returns its
// single result. A failure is a crash and breaks the instance.
func (i *Instance) invoke(ctx context.Context, op abi.Op, name string, fn api.Function, arg uint64) (uint64, error) {
	i.stack[0] = arg
	i.slot.Enter(i.kind, i.index)
	err := fn.CallWithStack(ctx, i.stack)
	i.slot.Leave()
	if err != nil {
		i.broken = &TrapError{Op: op, Func: name, Err: err, Stderr: i.stderr.Tail(),
			Memory: uint64(i.mem.Size()), MemoryLimit: i.memLimit}
		i.broken.Recorded = i.lastError(ctx, err)
		return 0, i.broken
	}
	return i.stack[0], nil
}

// copyResponse bounds-checks the response the guest pointed at and copies
// it out of guest memory.
func (i *Instance) copyResponse(op abi.Op, ptr, n uint32) error {
	b, ok := i.mem.Read(ptr, n)
	if !ok {
		return fmt.Errorf("%w: the guest answered %s with %d bytes at %#x, outside its %d bytes of memory",
			ErrBadResponse, OpName(op), n, ptr, i.mem.Size())
	}
	i.resp = append(i.resp[:0], b...)
	return nil
}

// status reads the status byte and returns the body or the guest's error.
func (i *Instance) status(op abi.Op) (*abi.Reader, error) {
	if len(i.resp) == 0 {
		return nil, fmt.Errorf("%w: the guest answered %s with an empty response", ErrBadResponse, OpName(op))
	}
	i.r = *abi.NewReader(i.resp[1:])
	switch abi.Status(i.resp[0]) {
	case abi.StatusOK:
		return &i.r, nil
	case abi.StatusError:
		info := abi.ReadErrorInfo(&i.r)
		if err := i.r.End(); err != nil {
			return nil, fmt.Errorf("%w: the guest reported an error for %s that does not decode: %v",
				ErrBadResponse, OpName(op), err)
		}
		return nil, &abi.GuestError{Info: bounded(info)}
	default:
		return nil, fmt.Errorf("%w: the guest answered %s with unknown status %d",
			ErrBadResponse, OpName(op), i.resp[0])
	}
}
