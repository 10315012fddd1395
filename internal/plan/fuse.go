package plan

import "github.com/bxwasm/bxwasm/guest-sdk/go/abi"

// fuse groups steps (in topological order) into nodes. A chain starts at a
// stateless step and grows while the last step's only output is read by
// exactly one stateless step; a branch ends a chain.
func fuse(g *abi.Graph, order []int) ([]Node, []int) {
	nreaders := make([]int, g.Streams)
	reader := make([]int, g.Streams)
	for i := range g.Steps {
		for _, in := range g.Steps[i].Inputs {
			nreaders[in]++
			reader[in] = i
		}
	}
	nodeOf := make([]int, len(g.Steps))
	for i := range nodeOf {
		nodeOf[i] = -1
	}
	var nodes []Node
	for _, i := range order {
		if nodeOf[i] >= 0 {
			continue
		}
		steps := []int{i}
		if g.Steps[i].Kind.Stateless() {
			steps = grow(g, steps, nreaders, reader)
		}
		for _, s := range steps {
			nodeOf[s] = len(nodes)
		}
		nodes = append(nodes, newNode(g, steps))
	}
	return nodes, nodeOf
}

func grow(g *abi.Graph, steps []int, nreaders, reader []int) []int {
	for {
		last := &g.Steps[steps[len(steps)-1]]
		if last.Kind == abi.KindBranch {
			return steps
		}
		out := last.Outputs[0]
		if nreaders[out] != 1 || !g.Steps[reader[out]].Kind.Stateless() {
			return steps
		}
		steps = append(steps, reader[out])
	}
}

func newNode(g *abi.Graph, steps []int) Node {
	first, last := &g.Steps[steps[0]], &g.Steps[steps[len(steps)-1]]
	n := Node{Steps: steps, Inputs: first.Inputs, Outputs: last.Outputs}
	switch first.Kind {
	case abi.KindInput:
		n.Kind = NodeInput
	case abi.KindMerge:
		n.Kind = NodeMerge
	case abi.KindRedistribute:
		n.Kind, n.Route = NodeRedistribute, RouteSpread
	case abi.KindStatefulBatch:
		n.Kind, n.Route = NodeStateful, RouteKey
	case abi.KindOutput:
		n.Kind = NodeOutput
		if first.Conn.Partitioned() {
			n.Route = RoutePart
		}
	default:
		n.Kind = NodeChain
	}
	return n
}
