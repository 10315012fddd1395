package host

import (
	"errors"
	"fmt"
	"io"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/connectors/kafkaconn"
	"github.com/bxwasm/bxwasm/internal/connectors/natsconn"
)

// conns are the host connectors of a run, by step index.
type conns struct {
	sources map[int]connectors.PartitionedSource
	sinks   map[int]any
}

// openConns creates the host side of every input and output step that the
// host implements (or that a test replaces). Refused paths, missing files,
// ungranted connections and unreachable servers are reported here, before
// anything runs.
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
		case s.Kind == abi.KindInput && streamConn(s.Conn):
			c.sources[i], err = newStreamSource(s, opts.Connections)
		case s.Kind == abi.KindOutput && streamConn(s.Conn):
			c.sinks[i], err = newStreamSink(s, opts.Connections)
		case s.Kind == abi.KindInput && s.Conn.Host():
			c.sources[i], err = connectors.NewSource(s.Conn, s.Arg, paths, opts.Stdin)
		case s.Kind == abi.KindOutput && s.Conn.Host():
			c.sinks[i], err = connectors.NewSink(s.Conn, s.Arg, paths, opts.Stdout)
		}
		if err != nil {
			c.close()
			return conns{}, &ConnectorError{StepID: s.ID, Err: err}
		}
	}
	return c, nil
}

// streamConn reports whether kind is a connector to a message server.
func streamConn(kind abi.ConnKind) bool {
	return kind == abi.ConnJetStream || kind == abi.ConnNATS || kind == abi.ConnKafka
}

func newStreamSource(s abi.Step, granted connectors.Connections) (connectors.PartitionedSource, error) {
	arg, conn, err := streamArg(s, granted)
	if err != nil {
		return nil, err
	}
	switch s.Conn {
	case abi.ConnJetStream:
		return natsconn.NewJetStreamSource(s.ID, arg, conn)
	case abi.ConnNATS:
		return natsconn.NewCoreSource(s.ID, arg, conn)
	}
	return kafkaconn.NewSource(s.ID, arg, conn)
}

func newStreamSink(s abi.Step, granted connectors.Connections) (connectors.PartitionedSink, error) {
	arg, conn, err := streamArg(s, granted)
	if err != nil {
		return nil, err
	}
	switch s.Conn {
	case abi.ConnJetStream:
		return natsconn.NewJetStreamSink(s.ID, arg, conn)
	case abi.ConnNATS:
		return natsconn.NewCoreSink(s.ID, arg, conn)
	}
	return kafkaconn.NewSink(s.ID, arg, conn)
}

// streamArg decodes a stream step's argument and finds its connection.
func streamArg(s abi.Step, granted connectors.Connections) (abi.StreamConn, connectors.Connection, error) {
	arg, err := abi.DecodeStreamConn(s.Arg)
	if err != nil {
		return arg, connectors.Connection{}, err
	}
	proto := connectors.ProtoNATS
	if s.Conn == abi.ConnKafka {
		proto = connectors.ProtoKafka
	}
	conn, err := granted.Lookup(arg.Conn, proto)
	return arg, conn, err
}

// deadLetter hands a poison item of input step to its source's dead
// letters, if the source keeps them (connectors.DeadLetters).
func (r *runner) deadLetter(step int, value []byte, err error) (bool, error) {
	dl, ok := r.conns.sources[step].(connectors.DeadLetters)
	if !ok {
		return false, nil
	}
	where, perr := dl.DeadLetter(r.opts.DeadLetter, value, err.Error())
	if perr != nil {
		return false, perr
	}
	if r.opts.Stderr != nil {
		fmt.Fprintf(r.opts.Stderr, "bxwasm: %s sent to dead letters %q: %v\n", where, r.opts.DeadLetter, err)
	}
	return true, nil
}

// close releases the connectors that hold connections to servers; it runs
// once the engine is done with them.
func (c conns) close() error {
	var errs []error
	for _, s := range c.sources {
		if cl, ok := s.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	for _, s := range c.sinks {
		if cl, ok := s.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
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
