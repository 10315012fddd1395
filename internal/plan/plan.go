// Package plan turns the flow graph a guest describes into an execution plan:
// it checks that the graph makes sense, orders the steps, fuses chains of
// stateless steps into single guest calls, and says which steps exchange
// data between workers and how.
//
// A plan is pure data computed once per run; every worker executes the same
// plan.
package plan

import (
	"errors"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// ErrInvalid is wrapped by every error about a malformed flow graph.
var ErrInvalid = errors.New("plan: invalid flow graph")

// NodeKind is what the engine does with a node.
type NodeKind uint8

const (
	// NodeInput reads partitions of a source.
	NodeInput NodeKind = iota + 1
	// NodeChain runs fused stateless steps in one guest call.
	NodeChain
	// NodeMerge forwards every input to its output.
	NodeMerge
	// NodeRedistribute spreads items evenly over all workers.
	NodeRedistribute
	// NodeStateful runs a stateful_batch step on the worker owning each key.
	NodeStateful
	// NodeOutput writes into a sink.
	NodeOutput
)

// Route says how items reach a node from other workers.
type Route uint8

const (
	// RouteLocal: items stay on the worker that produced them.
	RouteLocal Route = iota
	// RouteKey: items go to the worker owning hash(key).
	RouteKey
	// RouteSpread: items are dealt over all workers, keeping each supplied.
	RouteSpread
	// RoutePart: items go to the worker owning the sink partition of their key.
	RoutePart
)

// Node is a unit of execution: one core step, or a fused chain of them.
type Node struct {
	Kind    NodeKind
	Steps   []int    // indices into Graph.Steps; a chain has several
	Inputs  []uint32 // stream ids read, in port order
	Outputs []uint32 // stream ids written, in port order
	Route   Route
	// Origins, for a node with a non-local route, are the nodes whose
	// progress bounds what this worker can still send it: inputs and
	// exchanging nodes reached walking upstream through local nodes.
	Origins []int
}

// Step returns the node's first (for a chain: its first) step index.
func (n *Node) Step() int { return n.Steps[0] }

// Port is one input of a node.
type Port struct {
	Node int
	Port int
}

// Plan is a validated, fused, ordered flow.
type Plan struct {
	Graph   *abi.Graph
	Nodes   []Node   // in topological order
	Readers [][]Port // stream id -> the node inputs reading it
	NodeOf  []int    // step index -> node index
}

// Exchanging reports whether items reach node i from other workers.
func (p *Plan) Exchanging(i int) bool { return p.Nodes[i].Route != RouteLocal }

// Build validates g and returns its plan.
func Build(g *abi.Graph) (*Plan, error) {
	if err := validate(g); err != nil {
		return nil, err
	}
	order, err := topoOrder(g)
	if err != nil {
		return nil, err
	}
	p := &Plan{Graph: g}
	p.Nodes, p.NodeOf = fuse(g, order)
	p.Readers = readers(g.Streams, p.Nodes)
	for i := range p.Nodes {
		if p.Exchanging(i) {
			p.Nodes[i].Origins = p.origins(i)
		}
	}
	return p, nil
}

func readers(streams int, nodes []Node) [][]Port {
	r := make([][]Port, streams)
	for i, n := range nodes {
		for port, s := range n.Inputs {
			r[s] = append(r[s], Port{Node: i, Port: port})
		}
	}
	return r
}

// origins walks upstream from node i through local nodes and collects the
// inputs and exchanging nodes it reaches.
func (p *Plan) origins(i int) []int {
	producer := p.producers()
	seen := map[int]bool{}
	var out []int
	var walk func(n int)
	walk = func(n int) {
		for _, s := range p.Nodes[n].Inputs {
			up := producer[s]
			if seen[up] {
				continue
			}
			seen[up] = true
			if p.Nodes[up].Kind == NodeInput || p.Exchanging(up) {
				out = append(out, up)
				continue
			}
			walk(up)
		}
	}
	walk(i)
	return out
}

func (p *Plan) producers() []int {
	prod := make([]int, p.Graph.Streams)
	for i, n := range p.Nodes {
		for _, s := range n.Outputs {
			prod[s] = i
		}
	}
	return prod
}
