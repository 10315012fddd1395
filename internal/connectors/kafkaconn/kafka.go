// Package kafkaconn holds the Kafka source and sink the host implements.
package kafkaconn

import (
	"errors"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

var errTodo = errors.New("kafkaconn: not built yet")

// NewSource creates the Kafka source of input step step.
func NewSource(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSource, error) {
	return nil, errTodo
}

// NewSink creates the Kafka sink of output step step.
func NewSink(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSink, error) {
	return nil, errTodo
}
