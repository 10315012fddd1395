// stream_count: a running count of the messages of a NATS JetStream stream
// per subject, published as "subject<TAB>count" to a JetStream subject
// after every message. The connection is named "nats"; the operator binds
// it to a server:
//
//   guest-sdk/assemblyscript/build.sh guest-sdk/assemblyscript/examples/stream_count bin/stream_count-as.wasm
//   bxwasm run bin/stream_count-as.wasm:"flow('EVENTS', 'counts')" --connection nats=nats://127.0.0.1:4222 -w2 -r DIR
//
// With a recovery store (-r) the output is exactly once across crashes: the
// source resumes after the last committed message and the sink publishes an
// epoch's counts once the epoch is committed.

import {
  Args, Dataflow, KV, State, register, input, output, map, statefulMap,
  Message, JetStreamSource, JetStreamSink,
} from "../../assembly/index";

/** Keys a message by its subject. */
function bySubject(m: Message): KV<i64> { return new KV<i64>(m.subject, 1); }

/** The statefulMap mapper: the state is the subject's count so far. */
function count(n: State<i64>, one: i64): i64 {
  n.value += one;
  return n.value;
}

/** Renders one count as "subject<TAB>count", keyed by the subject. */
function format(kv: KV<i64>): KV<string> { return new KV<string>(kv.key, kv.key + "\t" + kv.value.toString()); }

function streamCount(args: Args): Dataflow | null {
  const flow = new Dataflow("stream_count");
  const msgs = input<Message>("inp", flow, JetStreamSource("nats", args.str(0)));
  const keyed = map<Message, KV<i64>>("key", msgs, bySubject);
  const counts = statefulMap<i64, i64, i64>("count", keyed, count);
  output<KV<string>>("out", map<KV<i64>, KV<string>>("format", counts, format), JetStreamSink("nats", args.str(1)));
  return flow;
}

register("flow", "stream string, out string", streamCount);
