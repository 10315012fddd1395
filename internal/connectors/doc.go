// Package connectors holds the sources and sinks the host implements, so
// that guests do no I/O of their own: lines of files and of a glob of
// files, standard input and output, and in-memory connectors for tests.
//
// The engine drives every connector through the same small interfaces. A
// PartitionedSource lists named partitions; the engine assigns each to one
// worker, which opens it (with the resume state of its last snapshot) and
// polls it with Next from its own goroutine. Sinks are either partitioned
// the same way or dynamic: opened once on every worker.
//
// Every path a connector touches goes through Paths.Resolve, which refuses
// paths outside the working directory and the directories the operator
// granted with --allow-path. Refused paths and missing inputs are reported
// when the connector is created, before the run starts.
//
// Resume state is a byte offset written as a uvarint: where a file source
// continues, and how far a file sink truncates its file on resume, which
// makes the file sink exactly-once as Bytewax's FileSink is.
package connectors
