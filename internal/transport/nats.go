package transport

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// Errors reported by the NATS transport, on Err or from Send. Each is
// wrapped with the workers and the cause.
var (
	// ErrConfig is returned by NewNATS for an impossible worker layout or
	// run id.
	ErrConfig = errors.New("transport: bad NATS transport configuration")
	// ErrLost is matched (errors.Is) by a LossError.
	ErrLost = errors.New("transport: messages lost")
	// ErrOrder is reported when a sender's message arrives twice or out of
	// order.
	ErrOrder = errors.New("transport: message out of order")
	// ErrConnLost is reported when the NATS connection disconnects or
	// closes while the transport is open: messages may have been lost.
	ErrConnLost = errors.New("transport: NATS connection lost")
)

// LossError reports messages from one worker to another that never
// arrived: a gap in the sequence numbers of the pair, or messages the NATS
// client dropped.
type LossError struct {
	From, To int // global worker indices; From is -1 when unknown
	N        int // how many messages
}

// Error implements error.
func (e *LossError) Error() string {
	if e.From < 0 {
		return fmt.Sprintf("transport: lost %d messages to worker %d", e.N, e.To)
	}
	return fmt.Sprintf("transport: lost %d messages from worker %d to worker %d", e.N, e.From, e.To)
}

// Is makes errors.Is(err, ErrLost) true.
func (e *LossError) Is(target error) bool { return target == ErrLost }

// NATS connects the local workers of one process to the workers of other
// processes over a NATS connection. Each process holds a contiguous range
// [first, first+local) of the global worker indices [0, total).
//
// Subjects, all under "bxwasm.<run>.":
//
//	w.<i>      data and frontiers for worker i (one subscription each)
//	ack.<i>    credit returned to worker i by remote receivers
//	hello.<i>  answered once worker i's subscriptions are in place
//
// A frame longer than the server's max_payload (1 MiB by default) is sent
// in chunks and reassembled by its receiver, so items of any size up to
// the item limit pass any server. Messages between two local workers stay
// in memory, as with Local. Close
// the transport before the connection: a connection that disconnects or
// closes while the transport is open is reported on Err.
type NATS struct {
	nc         *nats.Conn
	maxPayload int // the server's largest message
	limit      itemLimit
	first      int
	total      int
	eps        []*natsEndpoint
	dataSubj   []string // data subject per global worker
	ackSubj    []string // ack subject per global worker
	helloSubj  []string // hello subject per global worker
	subs       []*nats.Subscription
	status     chan nats.Status
	errc       chan error
	err        atomic.Pointer[error]
	done       chan struct{}
	wg         sync.WaitGroup
	once       sync.Once
}

// NewNATS connects the local workers of one process to every other worker
// over nc. run namespaces every subject ("bxwasm.<run>.…"), so many
// dataflows can share one NATS. Messages between two local workers stay in
// memory (as Local does); messages to other processes' workers are
// published on NATS. The subscriptions are in place at the server when it
// returns; AwaitPeers waits for the other processes' ones.
func NewNATS(nc *nats.Conn, run string, first, local, total int) (*NATS, error) {
	if err := checkLayout(nc, run, first, local, total); err != nil {
		return nil, err
	}
	t := &NATS{
		nc: nc, maxPayload: int(nc.MaxPayload()), first: first, total: total,
		errc: make(chan error, 1), done: make(chan struct{}),
		status: nc.StatusChanged(nats.DISCONNECTED, nats.CLOSED),
	}
	t.subjects(run)
	t.eps = make([]*natsEndpoint, local)
	for k := range t.eps {
		t.eps[k] = newNATSEndpoint(t, first+k)
	}
	if err := t.subscribe(); err != nil {
		t.Close()
		return nil, err
	}
	t.wg.Add(1)
	go t.watch()
	return t, nil
}

// checkLayout validates the arguments of NewNATS.
func checkLayout(nc *nats.Conn, run string, first, local, total int) error {
	switch {
	case nc == nil:
		return fmt.Errorf("%w: no connection", ErrConfig)
	case run == "" || strings.ContainsAny(run, ".*> \t\r\n"):
		return fmt.Errorf("%w: run id %q must be one NATS subject token", ErrConfig, run)
	case first < 0 || local < 1 || total > maxIndex || first+local > total:
		return fmt.Errorf("%w: workers [%d, %d) of %d", ErrConfig, first, first+local, total)
	case nc.MaxPayload() <= 2*maxChunkHeader:
		return fmt.Errorf("%w: the server's max_payload of %d bytes is too small", ErrConfig, nc.MaxPayload())
	}
	return nil
}

func (t *NATS) subjects(run string) {
	t.dataSubj = make([]string, t.total)
	t.ackSubj = make([]string, t.total)
	t.helloSubj = make([]string, t.total)
	for i := range t.total {
		t.dataSubj[i] = fmt.Sprintf("bxwasm.%s.w.%d", run, i)
		t.ackSubj[i] = fmt.Sprintf("bxwasm.%s.ack.%d", run, i)
		t.helloSubj[i] = fmt.Sprintf("bxwasm.%s.hello.%d", run, i)
	}
}

// subscribe subscribes every local worker to its data and ack subjects,
// with no pending limits so the client never drops, then answers hellos.
func (t *NATS) subscribe() error {
	var err error
	for _, e := range t.eps {
		if e.data, err = t.sub(t.dataSubj[e.index], e.onData); err != nil {
			return err
		}
		if _, err = t.sub(t.ackSubj[e.index], e.onAck); err != nil {
			return err
		}
	}
	if err := t.nc.Flush(); err != nil {
		return fmt.Errorf("transport: subscribe: %w", err)
	}
	for _, e := range t.eps {
		if _, err := t.sub(t.helloSubj[e.index], func(m *nats.Msg) { _ = m.Respond(nil) }); err != nil {
			return err
		}
	}
	if err := t.nc.Flush(); err != nil {
		return fmt.Errorf("transport: subscribe: %w", err)
	}
	return nil
}

// sub subscribes fn to subj without pending limits.
func (t *NATS) sub(subj string, fn nats.MsgHandler) (*nats.Subscription, error) {
	sub, err := t.nc.Subscribe(subj, fn)
	if err != nil {
		return nil, fmt.Errorf("transport: subscribe %s: %w", subj, err)
	}
	t.subs = append(t.subs, sub)
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, fmt.Errorf("transport: subscribe %s: %w", subj, err)
	}
	return sub, nil
}

// AwaitPeers waits until every remote worker's subscriptions are in place,
// so that nothing sent from now on can miss its receiver. Call it after
// NewNATS on every process, before the workers start.
func (t *NATS) AwaitPeers(ctx context.Context) error {
	for i := range t.total {
		if t.local(i) {
			continue
		}
		if err := t.hello(ctx, i); err != nil {
			return err
		}
	}
	return nil
}

// hello asks worker i whether it is subscribed, until it answers.
func (t *NATS) hello(ctx context.Context, i int) error {
	for {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := t.nc.RequestWithContext(rctx, t.helloSubj[i], nil)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("transport: waiting for worker %d: %w", i, context.Cause(ctx))
		}
		if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("transport: waiting for worker %d: %w", i, err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// SetMaxItemSize makes Send refuse, with an *ItemSizeError, messages
// holding an item over n bytes (key and value); 0, the default, allows
// any up to MaxItemSize. Call it before the first Send.
func (t *NATS) SetMaxItemSize(n int) { t.limit = itemLimit(n) }

// Endpoint returns the endpoint of worker i, a GLOBAL index in this
// process's range.
func (t *NATS) Endpoint(i int) Endpoint { return t.eps[i-t.first] }

// Err receives the first transport failure: lost, duplicated or malformed
// messages, or a lost connection. After a failure Send returns it too.
func (t *NATS) Err() <-chan error { return t.errc }

// Close unsubscribes, stops acks and makes further sends fail. It does not
// close the connection, which belongs to the caller. It is idempotent.
func (t *NATS) Close() {
	t.once.Do(func() {
		close(t.done)
		t.nc.RemoveStatusListener(t.status)
		for _, sub := range t.subs {
			_ = sub.Unsubscribe()
		}
		for _, e := range t.eps {
			e.close()
		}
		t.wg.Wait()
	})
}

// local reports whether worker i lives in this process.
func (t *NATS) local(i int) bool { return i >= t.first && i < t.first+len(t.eps) }

// remote reports whether i is a valid worker of another process.
func (t *NATS) remote(i int) bool { return i >= 0 && i < t.total && !t.local(i) }

// closed reports whether Close was called.
func (t *NATS) closed() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// fail records the first failure, reports it on Err and wakes every local
// worker. Failures after Close are not reported.
func (t *NATS) fail(err error) {
	if t.closed() || !t.err.CompareAndSwap(nil, &err) {
		return
	}
	t.errc <- err
	for _, e := range t.eps {
		e.in.signal()
	}
}

// failed is the recorded failure, or nil.
func (t *NATS) failed() error {
	if p := t.err.Load(); p != nil {
		return *p
	}
	return nil
}

// watch reports a disconnected or closed connection until Close.
func (t *NATS) watch() {
	defer t.wg.Done()
	select {
	case s, ok := <-t.status:
		if ok && !t.closed() {
			t.fail(fmt.Errorf("%w: %v", ErrConnLost, s))
		}
	case <-t.done:
	}
}

// ConnAuth is how a process proves itself to a NATS server and checks the
// server's certificate, as nats.go options. The zero ConnAuth adds none:
// credentials in the server URL (nats://user:pass@host, nats://token@host)
// work on their own.
type ConnAuth struct {
	Token     string // a token the server requires (nats.Token)
	CredsFile string // a credentials file with a user JWT and NKey seed (nats.UserCredentials)
	CertFile  string // this process's client certificate, with KeyFile (nats.ClientCert)
	KeyFile   string
	CAFile    string // the CA that signed the server's certificate (nats.RootCAs)
}

// Options are the nats.go connection options of a.
func (a ConnAuth) Options() []nats.Option {
	var opts []nats.Option
	if a.Token != "" {
		opts = append(opts, nats.Token(a.Token))
	}
	if a.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(a.CredsFile))
	}
	if a.CertFile != "" || a.KeyFile != "" {
		opts = append(opts, nats.ClientCert(a.CertFile, a.KeyFile))
	}
	if a.CAFile != "" {
		opts = append(opts, nats.RootCAs(a.CAFile))
	}
	return opts
}
