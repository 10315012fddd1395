package natsconn

import (
	"errors"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

var errTodo = errors.New("natsconn: not built yet")

func NewJetStreamSource(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSource, error) {
	return nil, errTodo
}
func NewCoreSource(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSource, error) {
	return nil, errTodo
}
func NewJetStreamSink(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSink, error) {
	return nil, errTodo
}
func NewCoreSink(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSink, error) {
	return nil, errTodo
}
