//! bxwasm guest SDK for Rust: write Bytewax-style dataflows whose logic
//! runs as a WebAssembly guest of the bxwasm host.
//!
//! ```ignore
//! extern crate bxwasm;
//! use bxwasm::*;
//!
//! fn wordcount(path: String) -> Dataflow {
//!     let flow = Dataflow::new("wordcount");
//!     flow.input("inp", file_source(&path))
//!         .redistribute("spread")
//!         .map("lower", |l: String| l.to_lowercase())
//!         .flat_map("split", |l: String| l.split_whitespace().map(String::from).collect())
//!         .count_final("count", |w: &String| w.clone())
//!         .map("format", |(w, n): (String, i64)| format!("{}\t{}", w, n))
//!         .output("out", stdout_sink());
//!     flow
//! }
//!
//! fn flows(r: &mut Registry) {
//!     r.register("get_flow", &["path"], wordcount);
//! }
//!
//! bxwasm::export!(flows);
//! ```
//!
//! See README.md for the operators, sources and sinks, the build recipe
//! and how panics reach the host.

mod alloc;
mod codec;
mod dispatch;
#[doc(hidden)]
pub mod exports;
mod flow;
mod hash;
mod join;
mod library;
mod ops;
mod parts;
mod register;
mod site;
mod stateful;
mod streams;
mod window_time;
mod windowing;
#[doc(hidden)]
pub mod wire;

#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod window_tests;

pub use codec::{to_bytes, Bytes, Codec};
pub use flow::{Dataflow, Scope, Stream};
pub use hash::{FxHashMap, FxHasher};
pub use join::{join_named, join_window_named, JoinEmitMode, JoinInsertMode};
pub use library::{StatefulLogic, TtlCache};
pub use ops::merge;
pub use parts::{
    dir_source, dynamic_sink, dynamic_source, file_sink, file_source, partitioned_sink, partitioned_source, stdin_source,
    stdout_sink, testing_source, DynamicSink, DynamicSource, FixedPartitionedSink, FixedPartitionedSource, NextBatch,
    Sink, Source, StatefulSinkPartition, StatefulSourcePartition, StatelessSinkPartition, StatelessSourcePartition,
};
pub use register::{Arg, Factory, IntoFlow, Param, Registry};
pub use stateful::{Builder, StatefulBatchLogic};
pub use streams::{
    jetstream_message_sink, jetstream_payloads, jetstream_sink, jetstream_source, kafka_message_sink, kafka_sink, kafka_source,
    nats_sink, nats_source, Header, Message, SinkOptions, Start, StreamOptions,
};

pub use window_time::{
    Clock, EventClock, SessionWindower, SlidingWindower, SystemClock, TumblingWindower, WindowMetadata, Windower, LATE_SESSION_ID,
};
pub use windowing::{WindowLogic, WindowOut};

/// The ABI version this SDK speaks.
pub const ABI_VERSION: i32 = 1;

/// Defines the module's exports (`bxwasm_abi_version`, `bxwasm_buffer`,
/// `bxwasm_call`, `bxwasm_last_error`) around `flows`, a
/// `fn(&mut Registry)` that registers the module's flows. It runs once,
/// before the first request. Use it once per module, at the top level:
///
/// ```ignore
/// fn flows(r: &mut bxwasm::Registry) {
///     r.register("flow", &[], my_flow);
/// }
/// bxwasm::export!(flows);
/// ```
#[macro_export]
macro_rules! export {
    ($flows:path) => {
        /// The bxwasm ABI version this module speaks.
        #[no_mangle]
        pub extern "C" fn bxwasm_abi_version() -> i32 {
            $crate::ABI_VERSION
        }
        /// A buffer for the host's next request.
        #[no_mangle]
        pub extern "C" fn bxwasm_buffer(size: i32) -> i32 {
            $crate::exports::buffer(size, $flows)
        }
        /// Runs the request in the buffer.
        #[no_mangle]
        pub extern "C" fn bxwasm_call(len: i32) -> i64 {
            $crate::exports::call(len, $flows)
        }
        /// The error a panic recorded before the instance trapped.
        #[no_mangle]
        pub extern "C" fn bxwasm_last_error() -> i64 {
            $crate::exports::last_error()
        }
    };
}
