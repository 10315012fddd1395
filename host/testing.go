package host

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// TestInputs are the items a test feeds to input steps, by full step id
// ("wordcount.inp"). Items are in the SDK's wire form: for a Stream[string]
// an item is the string's bytes.
type TestInputs map[string][][]byte

// TestOutputs are the items each output step received, by full step id.
// Items of different workers interleave in no particular order.
type TestOutputs map[string][][]byte

// Strings returns one output's items as strings.
func (o TestOutputs) Strings(step string) []string {
	var out []string
	for _, b := range o[step] {
		out = append(out, string(b))
	}
	return out
}

// TestRun runs a flow in-process the way Run does, but feeds the given input
// steps from memory (other inputs run as declared) and captures what every
// output step receives instead of writing it anywhere. It is the analog of
// Bytewax's bytewax.testing.run_main.
func TestRun(ctx context.Context, module, flowSpec string, inputs TestInputs, opts Options) (TestOutputs, error) {
	t := &testIO{inputs: inputs, captures: map[string]*connectors.Capture{}}
	r, err := prepare(ctx, module, flowSpec, opts, t)
	if err != nil {
		return nil, exported(err)
	}
	defer r.close(ctx)
	if err := r.run(ctx); err != nil {
		return nil, r.exported(err)
	}
	out := TestOutputs{}
	for id, c := range t.captures {
		out[id] = c.Items()
	}
	return out, nil
}

// testIO replaces a flow's connectors for TestRun.
type testIO struct {
	inputs   TestInputs
	captures map[string]*connectors.Capture
}

// testBatchSize is how many items a test input puts in one batch.
const testBatchSize = 64

func (t *testIO) hasInput(step string) bool {
	if t == nil {
		return false
	}
	_, ok := t.inputs[step]
	return ok
}

func (t *testIO) source(step string) connectors.PartitionedSource {
	return connectors.NewMemorySource(t.inputs[step], testBatchSize)
}

func (t *testIO) capture(step string) *connectors.Capture {
	c := &connectors.Capture{}
	t.captures[step] = c
	return c
}

// rewire turns the graph's replaced inputs into host inputs and every
// output into a local host output, and checks that every test input names
// an input step.
func (t *testIO) rewire(g *abi.Graph) error {
	inputs := map[string]bool{}
	for i := range g.Steps {
		s := &g.Steps[i]
		switch {
		case s.Kind == abi.KindInput:
			inputs[s.ID] = true
			if t.hasInput(s.ID) {
				s.Conn, s.Arg = abi.ConnStdin, ""
			}
		case s.Kind == abi.KindOutput:
			s.Conn, s.Arg = abi.ConnStdout, ""
		}
	}
	for id := range t.inputs {
		if !inputs[id] {
			return fmt.Errorf("host: test input %q is not an input step of flow %q; its inputs are: %s", id, g.Flow, keys(inputs))
		}
	}
	return nil
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
