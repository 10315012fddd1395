//! Tests of the windowing operators and joins.
