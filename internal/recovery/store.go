package recovery

import (
	"context"
	"errors"

	"github.com/cespare/xxhash/v2"
)

// Snapshot is one key's state of one step at the close of an epoch; State nil is a tombstone (the key was
// discarded). Keys of sources and sinks partitions are stored the same way (step id of the input or output
// step, key = partition name).
type Snapshot struct {
	StepID, Key string
	Epoch       uint64
	State       []byte
}

// Store is what the engine needs; Memory and SQLite implement it.
type Store interface {
	// Begin records a new execution of the dataflow with its worker count; returns the execution number
	// (1 for the first execution).
	Begin(ctx context.Context, workers int) (execution uint64, err error)
	// Write stores snapshots of one epoch (many keys) in one transaction per partition.
	Write(ctx context.Context, snaps []Snapshot) error
	// Commit records that worker has closed every epoch <= epoch in this execution (its frontier).
	Commit(ctx context.Context, execution uint64, worker int, epoch uint64) error
	// ResumeEpoch is where a new execution starts: the min over the workers of the last execution of their
	// committed epoch, +1 (1 when the store is empty).
	ResumeEpoch(ctx context.Context) (uint64, error)
	// Load calls fn for the latest snapshot at or before epoch of every (step, key), skipping tombstones,
	// for keys whose route(step, key) is true (so each worker loads only the keys it owns). fn must not
	// call the store.
	Load(ctx context.Context, epoch uint64, route func(stepID, key string) bool, fn func(Snapshot) error) error
	// GC deletes snapshots superseded at or before epoch before: for each key it keeps only its latest
	// snapshot at or before that epoch, and drops that one too if it is a tombstone. Loads at an epoch >=
	// before see the same state as without GC.
	GC(ctx context.Context, before uint64) error
	// Close releases the store.
	Close() error
}

// Errors returned by stores, wrapped with details; test them with errors.Is.
var (
	ErrNoDir             = errors.New("recovery: store directory does not exist")
	ErrNotDir            = errors.New("recovery: not a directory")
	ErrNoPartitions      = errors.New("recovery: no partition files")
	ErrMissingPartition  = errors.New("recovery: missing partition file")
	ErrMixedPartitions   = errors.New("recovery: partition files of different stores")
	ErrCorrupt           = errors.New("recovery: corrupted partition file")
	ErrReadOnly          = errors.New("recovery: store is read-only")
	ErrLocked            = errors.New("recovery: store is in use by another run")
	ErrBadProcess        = errors.New("recovery: process id must be at least 0")
	ErrFlowMismatch      = errors.New("recovery: store belongs to another flow")
	ErrNotEmpty          = errors.New("recovery: directory already holds a store")
	ErrBadPartitionCount = errors.New("recovery: partition count must be at least 1")
	ErrBadWorkers        = errors.New("recovery: worker count must be at least 1")
	ErrUnknownExecution  = errors.New("recovery: unknown execution")
	ErrStaleExecution    = errors.New("recovery: execution is not the latest")
	ErrBadWorker         = errors.New("recovery: worker out of range")
	ErrClosed            = errors.New("recovery: store is closed")
	ErrOldFormat         = errors.New("recovery: store written by an older bxwasm (format 1, without checksums)")
	ErrChecksum          = errors.New("recovery: a stored snapshot fails its checksum")
	ErrNotStore          = errors.New("recovery: directory is not a bxwasm store")
)

// PartitionOf is the partition (0..n-1) that holds the snapshots of key of step: xxhash64 of
// step + "\x00" + key, modulo n. It is stable across processes, machines and releases.
func PartitionOf(stepID, key string, n int) int {
	d := xxhash.New()
	_, _ = d.WriteString(stepID)
	_, _ = d.WriteString("\x00")
	_, _ = d.WriteString(key)
	return int(d.Sum64() % uint64(n))
}

// Execution is one run of the dataflow as recorded by Begin, with the frontier each worker committed.
type Execution struct {
	// Number is the execution number returned by Begin.
	Number uint64
	// Workers is the worker count of the execution.
	Workers int
	// StartEpoch is the resume epoch at Begin.
	StartEpoch uint64
	// Frontiers holds each worker's committed epoch (StartEpoch-1 when it committed nothing).
	Frontiers []uint64
}

// StepSummary counts the stored snapshots of one step.
type StepSummary struct {
	// StepID is the step.
	StepID string
	// Snapshots counts rows, tombstones included.
	Snapshots int64
	// Tombstones counts rows whose state is nil.
	Tombstones int64
	// Bytes is the total size of the states.
	Bytes int64
}

// Summary describes a store, for `bxwasm recovery inspect`.
type Summary struct {
	// FlowID is the flow the store belongs to ("" before the first Begin with a flow id).
	FlowID string
	// Partitions is the number of partition files (0 for Memory).
	Partitions int
	// Executions lists every execution, oldest first.
	Executions []Execution
	// ResumeEpoch is where the next execution starts.
	ResumeEpoch uint64
	// Steps counts snapshots per step, by step id.
	Steps []StepSummary
}
