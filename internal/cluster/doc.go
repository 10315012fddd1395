// Package cluster is the process-level machinery of a run on several
// processes: an embedded NATS server per process (StartServer), each
// process's membership in the run (Join, Mesh: hello, heartbeats, abort), and
// the supervisor that starts a local cluster of child processes (Supervise).
//
// A local cluster (-p N) looks like this:
//
//	supervisor ── StartServer("127.0.0.1:0") ── Supervise(N children)
//	   child i:  BXWASM_PROCESS_ID=i, connects to the supervisor's server,
//	             Join(run, i, N) -> hellos of all, Watch() for failures
//
// A manual cluster (-i/-a) runs one process per address; each embeds a server
// listening for routes at its own address with routes to the others, so the
// embedded servers form one NATS cluster and no broker has to be run.
//
// Every subject the mesh uses is namespaced by the run id
// ("bxwasm.<run>.mesh.<kind>.<process>"), so many runs can share one NATS.
// Any failure of one process stops the others with the original error text:
// Abort sends it, Watch receives it as a *RemoteError; a process that goes
// silent without saying Done is reported lost after LostAfter. A process that
// fails before it has joined tells the others with PublishAbort, so that
// their Join fails at once instead of timing out.
package cluster
