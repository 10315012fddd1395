package host

import (
	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// conns are the host connectors of a run, by step index.
type conns struct {
	sources map[int]connectors.PartitionedSource
	sinks   map[int]any
}

// openConns creates the host side of every input and output step that the
// host implements (or that a test replaces). Refused paths and missing files
// are reported here, before anything runs.
func openConns(g *abi.Graph, opts *Options, test *testIO) (conns, error) {
	c := conns{sources: map[int]connectors.PartitionedSource{}, sinks: map[int]any{}}
	paths := connectors.Paths{Root: opts.WorkDir, Allow: opts.AllowPaths}
	for i, s := range g.Steps {
		var err error
		switch {
		case s.Kind == abi.KindInput && test.hasInput(s.ID):
			c.sources[i] = test.source(s.ID)
		case s.Kind == abi.KindOutput && test != nil:
			c.sinks[i] = test.capture(s.ID)
		case s.Kind == abi.KindInput && s.Conn.Host():
			c.sources[i], err = connectors.NewSource(s.Conn, s.Arg, paths, opts.Stdin)
		case s.Kind == abi.KindOutput && s.Conn.Host():
			c.sinks[i], err = connectors.NewSink(s.Conn, s.Arg, paths, opts.Stdout)
		}
		if err != nil {
			return c, &ConnectorError{StepID: s.ID, Err: err}
		}
	}
	return c, nil
}

// ConnectorError is a host connector that cannot be set up: a refused or
// missing path, for example.
type ConnectorError struct {
	StepID string
	Err    error
}

// Error names the step and the problem.
func (e *ConnectorError) Error() string { return "step " + e.StepID + ": " + e.Err.Error() }

// Unwrap returns the connector's error.
func (e *ConnectorError) Unwrap() error { return e.Err }
