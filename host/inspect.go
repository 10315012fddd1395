package host

import (
	"context"
	"fmt"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// ModuleInfo describes a guest module: what `bxwasm inspect` prints.
type ModuleInfo struct {
	Path       string
	Size       int64
	ABIVersion int
	Flows      []FlowInfo
	Imports    []string // "module.name" of every function the module imports
}

// FlowInfo is a flow a module registers; a flow with Params is a factory.
type FlowInfo struct {
	Name   string
	Params []Param
}

// Param is one parameter of a flow factory.
type Param struct {
	Name string
	Type string // string, int, float64 or bool
}

// Signature renders the flow as it is called: "get_flow(path string)".
func (f FlowInfo) Signature() string {
	if len(f.Params) == 0 {
		return f.Name
	}
	ps := make([]string, len(f.Params))
	for i, p := range f.Params {
		ps[i] = p.Name + " " + p.Type
	}
	return f.Name + "(" + strings.Join(ps, ", ") + ")"
}

func flowInfo(f abi.FlowInfo) FlowInfo {
	fi := FlowInfo{Name: f.Name}
	for _, p := range f.Params {
		fi.Params = append(fi.Params, Param{Name: p.Name, Type: p.Type.String()})
	}
	return fi
}

// Inspect loads a module and describes it without running anything.
func Inspect(ctx context.Context, module string, given Options) (*ModuleInfo, error) {
	opts := given.withDefaults()
	if err := opts.check(); err != nil {
		return nil, err
	}
	rt, err := newRuntime(ctx, &opts)
	if err != nil {
		return nil, err
	}
	defer rt.Close(ctx)
	mod, err := rt.Load(ctx, module)
	if err != nil {
		return nil, exported(err)
	}
	inst, err := mod.InstantiateWatched(ctx, opts.Watchdog.table().Slot(0))
	if err != nil {
		return nil, exported(err)
	}
	defer inst.Close(ctx)
	flows, err := inst.ListFlows(ctx)
	if err != nil {
		return nil, exported(fmt.Errorf("listing flows of %s: %w", module, err))
	}
	info := mod.Info()
	mi := &ModuleInfo{Path: info.Path, Size: info.Size, ABIVersion: inst.ABIVersion(), Imports: info.Imports}
	for _, f := range flows {
		mi.Flows = append(mi.Flows, flowInfo(f))
	}
	return mi, nil
}
