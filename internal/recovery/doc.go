// Package recovery stores the state snapshots of a dataflow so that a failed run resumes where it left off,
// on the same or a different number of workers.
//
// The engine calls a Store at every epoch boundary:
//
//	ex, _ := store.Begin(ctx, workers)          // once per execution
//	resume, _ := store.ResumeEpoch(ctx)         // first epoch of this execution
//	store.Load(ctx, resume-1, owns, restore)    // each worker loads the keys it owns
//	...
//	store.Write(ctx, snapshotsOfEpoch)          // state of every changed key at the close of an epoch
//	store.Commit(ctx, ex, worker, epoch)        // the worker's frontier: every epoch <= epoch is closed
//	store.GC(ctx, resume-1)                     // drop superseded snapshots
//
// A Snapshot is the state of one key of one step at the close of an epoch; a nil State is a tombstone.
// Offsets of source and sink partitions are snapshots like any other (step id of the input or output step,
// key = partition name).
//
// # Resume epoch
//
// Each execution records its worker count and the epoch it started at. The resume epoch is the minimum over
// the workers of the last execution of their committed epoch, plus one; a worker that committed nothing in that
// execution counts as having committed the epoch before the execution's start. An empty store resumes at 1.
//
// # Crash semantics
//
// Write is one transaction per partition file: a crash in the middle of a Write may leave the snapshots of an
// epoch in some partitions and not in others. That is harmless: an epoch is only resumed from once every
// worker has committed it, and a worker commits an epoch only after its Write returned. Snapshots of epochs
// at or after the resume epoch belong to epochs not every worker committed. They are not overwritten by the
// replay: epochs are time-based, so the replay may put the same keys in other epochs, and a stale snapshot of
// a later epoch would win a later Load. Begin therefore deletes them, tombstones too, in every partition,
// before it records the new execution (a crash in between leaves a history the next Begin cleans the same
// way). Begin must come before the execution's first Write.
//
// # Files
//
// The SQLite store is a directory of partition files part-0.sqlite3 … part-(n-1).sqlite3 in WAL mode, created
// by Init (`bxwasm recovery init DIR --partitions N`). Snapshots are spread over the partitions by
// PartitionOf (xxhash64 of step id, NUL, key, modulo n); executions and commits live in part-0.
//
// The OS processes of one run share the store: process p (SQLiteOptions.Process) holds an exclusive lock on
// byte p of the LOCK file and names itself in LOCK.p. Every run has a process 0, so a second run on the same
// directory is refused with ErrLocked, naming the holder. Process 0 calls Begin; the others Commit with the
// execution number it got (commits read the history from part-0 in their transaction, not from the handle).
// Transactions take the write lock at BEGIN and wait up to 5 s for the other processes. OpenSQLite refuses,
// before writing anything, a missing directory, missing or extra partitions, corrupted or read-only files, a
// held lock, and a store of another flow. With Create, the partitions are created under process 0's lock
// (two runs racing to create one store: the loser gets ErrLocked), and only in a directory that holds
// nothing but a store's lock files (else ErrNotStore).
//
// # Integrity
//
// Every snapshot row carries the CRC-32C of its step id, key, epoch, tombstone flag and bytes (Checksum);
// Load checks every row it picks and stops with ErrChecksum, naming the partition file, step and key, at
// the first that fails. Execution and commit rows no run writes (no workers, negative epochs) are
// ErrCorrupt. Stores of format 1, written before checksums, are refused with ErrOldFormat.
package recovery
