package plan

import (
	"fmt"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// maxStreams bounds what a guest may declare, so a hostile graph cannot make
// the host allocate without limit.
const maxStreams = 1 << 20

type arity struct{ minIn, maxIn, out int }

var arities = map[abi.StepKind]arity{
	abi.KindInput:         {0, 0, 1},
	abi.KindOutput:        {1, 1, 0},
	abi.KindFlatMapBatch:  {1, 1, 1},
	abi.KindBranch:        {1, 1, 2},
	abi.KindMerge:         {0, 1 << 30, 1},
	abi.KindRedistribute:  {1, 1, 1},
	abi.KindInspectDebug:  {1, 1, 1},
	abi.KindStatefulBatch: {1, 1, 1},
}

var sourceConns = map[abi.ConnKind]bool{
	abi.ConnGuestPartitioned: true, abi.ConnGuestDynamic: true,
	abi.ConnFile: true, abi.ConnDir: true, abi.ConnStdin: true,
	abi.ConnJetStream: true, abi.ConnNATS: true, abi.ConnKafka: true,
}

var sinkConns = map[abi.ConnKind]bool{
	abi.ConnGuestPartitioned: true, abi.ConnGuestDynamic: true,
	abi.ConnFile: true, abi.ConnStdout: true,
	abi.ConnJetStream: true, abi.ConnNATS: true, abi.ConnKafka: true,
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func validate(g *abi.Graph) error {
	if g.Flow == "" {
		return invalid("the flow has no id")
	}
	if g.Streams < 0 || g.Streams > maxStreams {
		return invalid("%d streams is out of range", g.Streams)
	}
	if len(g.Steps) == 0 {
		return invalid("flow %q has no steps", g.Flow)
	}
	ids := map[string]bool{}
	produced := make([]int, g.Streams)
	for i := range g.Steps {
		s := &g.Steps[i]
		if s.ID == "" {
			return invalid("step %d has no id", i)
		}
		if ids[s.ID] {
			return invalid("duplicate step id %q", s.ID)
		}
		ids[s.ID] = true
		if err := checkStep(g, s); err != nil {
			return err
		}
		for _, o := range s.Outputs {
			produced[o]++
		}
	}
	return checkProduced(g, produced)
}

func checkStep(g *abi.Graph, s *abi.Step) error {
	a, ok := arities[s.Kind]
	if !ok {
		return invalid("step %q has unknown kind %d", s.ID, s.Kind)
	}
	if len(s.Inputs) < a.minIn || len(s.Inputs) > a.maxIn || len(s.Outputs) != a.out {
		return invalid("step %q (%s) has %d inputs and %d outputs", s.ID, s.Kind, len(s.Inputs), len(s.Outputs))
	}
	for _, id := range append(append([]uint32{}, s.Inputs...), s.Outputs...) {
		if int(id) >= g.Streams {
			return invalid("step %q uses stream %d, but the flow has %d streams", s.ID, id, g.Streams)
		}
	}
	return checkConn(s)
}

func checkConn(s *abi.Step) error {
	switch s.Kind {
	case abi.KindInput:
		if !sourceConns[s.Conn] {
			return invalid("input step %q has connector %s, which cannot be a source", s.ID, s.Conn)
		}
	case abi.KindOutput:
		if !sinkConns[s.Conn] {
			return invalid("output step %q has connector %s, which cannot be a sink", s.ID, s.Conn)
		}
	default:
		if s.Conn != 0 || s.Arg != "" {
			return invalid("step %q (%s) has a connector", s.ID, s.Kind)
		}
	}
	return nil
}

func checkProduced(g *abi.Graph, produced []int) error {
	for id, n := range produced {
		if n > 1 {
			return invalid("stream %d is written by %d steps", id, n)
		}
	}
	for i := range g.Steps {
		for _, in := range g.Steps[i].Inputs {
			if produced[in] == 0 {
				return invalid("step %q reads stream %d, which no step writes", g.Steps[i].ID, in)
			}
		}
	}
	return nil
}

// topoOrder orders steps so that every step comes after the producers of
// its inputs, keeping declaration order where it can; a cycle is an error.
func topoOrder(g *abi.Graph) ([]int, error) {
	producer := make([]int, g.Streams)
	for i := range g.Steps {
		for _, o := range g.Steps[i].Outputs {
			producer[o] = i
		}
	}
	state := make([]uint8, len(g.Steps)) // 0 new, 1 visiting, 2 done
	order := make([]int, 0, len(g.Steps))
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return invalid("step %q is part of a cycle", g.Steps[i].ID)
		case 2:
			return nil
		}
		state[i] = 1
		for _, in := range g.Steps[i].Inputs {
			if err := visit(producer[in]); err != nil {
				return err
			}
		}
		state[i] = 2
		order = append(order, i)
		return nil
	}
	for i := range g.Steps {
		if err := visit(i); err != nil {
			return nil, err
		}
	}
	return order, nil
}
