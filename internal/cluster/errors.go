package cluster

import (
	"errors"
	"fmt"
)

var (
	// ErrConfig is wrapped by errors about a bad mesh or supervisor
	// configuration.
	ErrConfig = errors.New("cluster: bad configuration")
	// ErrJoinTimeout is wrapped by Join's error when some processes did not
	// say hello in time; the message names them.
	ErrJoinTimeout = errors.New("cluster: join timed out")
	// ErrDuplicateProcess means two processes of a run claim the same id.
	ErrDuplicateProcess = errors.New("cluster: duplicate process id")
	// ErrDisconnected is reported by Watch when this process has been cut
	// off from NATS for longer than LostAfter.
	ErrDisconnected = errors.New("cluster: lost the connection to NATS")
	// ErrProcessFailed is wrapped by *ProcessError.
	ErrProcessFailed = errors.New("cluster: process failed")
)

// RemoteError is another process's failure, as sent by its Mesh.Abort.
type RemoteError struct {
	Process int    // the id of the process that failed
	Message string // its error text
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("process %d failed: %s", e.Process, e.Message)
}

// LostError reports a process that stopped sending heartbeats without
// saying it was done.
type LostError struct {
	Process int    // the silent process's id
	Address string // its address when known, else ""
}

// Error implements error.
func (e *LostError) Error() string {
	return fmt.Sprintf("%s stopped responding (lost its heartbeat)", describe(e.Process, e.Address))
}

// describe names a process, with its address when known.
func describe(process int, address string) string {
	if address == "" {
		return fmt.Sprintf("process %d", process)
	}
	return fmt.Sprintf("process %d (%s)", process, address)
}
