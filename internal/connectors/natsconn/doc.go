// Package natsconn holds the NATS connectors the host implements: JetStream
// sources and sinks, and core NATS subjects.
//
// A JetStream source's partitions are subject filters of one stream (given,
// the stream's own subjects, or the subjects matching a pattern when the run
// starts); each is read by one worker through an ordered consumer, and its
// position is the stream sequence of the last message emitted, snapshotted
// every epoch: a resume continues right after it, so every message enters the
// dataflow exactly once. Without Tail a partition ends at the last message it
// had when the source was created.
//
// A JetStream sink is staged (connectors.StagedSinkPart): it keeps each
// epoch's items, puts them in its snapshot, and publishes them once every
// worker committed the epoch, each with the Nats-Msg-Id
// "STEP/PARTITION/EPOCH/INDEX". A resumed run publishes what its snapshot
// held again under the same ids, and the stream drops those it already has:
// exactly once end to end, as long as the stream's duplicate window
// (Duplicates, 2 minutes by default) is longer than an epoch interval plus the
// time from a crash to its resume. Past that window, a resume may publish the
// last epoch's output twice.
//
// Core NATS keeps nothing: its source sees only what arrives while it is
// subscribed (at most once); its sink publishes right away, so what a resume
// replays is published again (at least once).
package natsconn
