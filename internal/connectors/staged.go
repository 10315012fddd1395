package connectors

import "github.com/bxwasm/bxwasm/guest-sdk/go/abi"

// StagedSinkPart is a sink partition that publishes nothing before its
// epoch is committed: it keeps each epoch's items (and puts them in its
// Snapshot) until the engine calls Committed for that epoch, then sends them
// under ids made of (partition, epoch, index), which do not change when a
// resumed run sends them again. With a recovery store the engine calls
// Committed once every worker of the run has committed the epoch, so a
// message is never published for an epoch that a resume would replay;
// without one, right after each write.
//
// WriteEpoch and Snapshot are called by the partition's worker; Committed
// and Pending by the engine's committer, on another goroutine; Close once
// both are done with the partition.
type StagedSinkPart interface {
	SinkPart
	// WriteEpoch keeps the items of a batch of epoch.
	WriteEpoch(epoch uint64, b abi.Batch) error
	// Committed publishes every item kept for epochs up to epoch.
	Committed(epoch uint64) error
	// Pending is the latest epoch with items not yet published, 0 if none.
	Pending() uint64
}

// DeadLetters is a source that keeps the items a flow cannot process.
type DeadLetters interface {
	// DeadLetter publishes value, an item the source emitted, to subject
	// with reason, and says where the item was read (for a log line).
	DeadLetter(subject string, value []byte, reason string) (where string, err error)
}

// Headers a dead letter carries besides the original message's.
const (
	HeaderError     = "Bxwasm-Error"     // the step error the item caused
	HeaderStep      = "Bxwasm-Step"      // the input step that read it
	HeaderPartition = "Bxwasm-Partition" // the partition it was read from
	HeaderSeq       = "Bxwasm-Seq"       // its position there (sequence, offset)
	HeaderSubject   = "Bxwasm-Subject"   // the subject or topic it was read from
)
