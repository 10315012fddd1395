// Package kafkaconn holds the Kafka source and sink the host implements,
// on github.com/twmb/franz-go. Their tests run against franz-go's
// in-process kfake cluster: there is no Kafka broker on the build machines.
//
// # Connections
//
// A step names a connection that the operator binds with
// --connection NAME=kafka://HOST:PORT[,HOST:PORT]. A user:password@ in the
// URL authenticates with SASL PLAIN (send it over a network you trust: the
// connection is not TLS). An unreachable broker (no answer within
// dialTimeout), a missing topic or a bad argument fails NewSource or NewSink,
// before the run starts, naming the connection.
//
// # Source
//
// Every partition of every topic of the step is a source partition, named
// "TOPIC/N" and read by one worker, without consumer groups. Its resume
// state is the offset of the next record to read, snapshotted at every
// epoch, so a resumed run reads every record exactly once into the
// dataflow. Without resume state a partition starts at its first record
// (Start "first"), at its end when it is opened ("new") or at the first
// record stored at or after StartTime ("time"). Without Tail a partition
// ends at the high watermark it had when the source was created; with Tail
// it never ends. A bounded partition ends when it has handed out the record
// just before that offset: one whose last offsets hold no record (a
// transaction marker, compacted records) does not end. Each partition is read ahead of its worker by its own
// client, a bounded number of records at most: the reading stops while the
// worker does not take them.
//
// # Sink
//
// The partitions of the sink are those of its topic, "0" to "n-1", and sink
// partition k produces only into Kafka partition k. The engine routes an
// item to a sink partition by xxhash64 of its key modulo the number of
// partitions: not by Kafka's murmur2, so a record lands in another partition
// than a Kafka producer would put the same key in.
//
// The sink is staged (connectors.StagedSinkPart): it keeps each epoch's
// items, in its snapshot too, until the engine says that every worker of the
// run committed the epoch, then produces them in order, each with a header
// bxwasm-id: STEP/PART/EPOCH/INDEX (INDEX counts the epoch's items of the
// partition), and waits for the broker's acknowledgement. A resumed run
// produces the items of its snapshot again, but first reads the last record
// of its Kafka partition and skips the items up to that record's
// (EPOCH, INDEX): they were produced before the crash. This makes the sink
// exactly-once on one condition: each partition of the topic has this sink
// as its only writer. A record from another producer after the sink's own
// last record hides how far the sink got, and its items are produced again.
package kafkaconn
