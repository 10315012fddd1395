package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// runCluster runs this process's share of a clustered run: it joins the
// other processes over NATS, agrees with them on partitions, and stops
// them all on the first failure anywhere.
func (r *runner) runCluster(ctx context.Context, cfg engine.Config, watch []<-chan error) error {
	name := nats.Name(fmt.Sprintf("bxwasm %s process %d", r.opts.RunID, r.opts.ProcessID))
	nc, err := nats.Connect(r.opts.NATSURL, append([]nats.Option{name}, r.opts.NATSOptions...)...)
	if err != nil {
		return fmt.Errorf("host: connecting to NATS at %s: %w", redactURL(r.opts.NATSURL), err)
	}
	defer nc.Close()
	if r.opts.Stop != nil {
		stopCtx, stopDone := context.WithCancel(ctx)
		defer stopDone()
		if cfg.Stop, err = cluster.ShareStop(stopCtx, nc, r.opts.RunID, r.opts.Stop); err != nil {
			return err
		}
	}
	mesh, err := r.join(ctx, nc, &cfg)
	if err != nil {
		return err
	}
	if cfg.Recovery != nil && r.opts.ProcessID != 0 {
		defer cfg.Recovery.Store.Close()
	}
	defer mesh.Close()
	fin, err := cluster.SubscribeFinish(nc, r.opts.RunID, r.opts.Processes)
	if err != nil {
		return err
	}
	defer fin.Unsubscribe()
	tr, err := transport.NewNATS(nc, r.opts.RunID, cfg.FirstWorker, len(r.insts), cfg.TotalWorkers)
	if err != nil {
		return err
	}
	defer tr.Close()
	tr.SetMaxItemSize(r.opts.MaxItemSizeMiB << 20)
	if err := tr.AwaitPeers(ctx); err != nil {
		return err
	}
	for i := range r.insts {
		cfg.Endpoints = append(cfg.Endpoints, tr.Endpoint(cfg.FirstWorker+i))
	}
	r.stop = cfg.Stop
	err = runWatched(ctx, cfg, append(watch, mesh.Watch(), tr.Err())...)
	if err == nil {
		mesh.Done()
		err = fin.Wait(ctx, nc, r.opts.ProcessID, mesh.Watch())
	}
	var remote *cluster.RemoteError
	if err != nil && !errors.As(err, &remote) {
		mesh.Abort(r.exported(err))
	}
	return err
}

// hello is what a process tells the others when it joins.
type hello struct {
	// Reach lists the partitions its workers reach (engine.LocalReach).
	Reach map[int][][]string `json:"reach"`
	// Recovering says the process has a recovery store; every process of a
	// run must agree.
	Recovering bool `json:"recovering,omitempty"`
	// Execution and Resume are process 0's recovery execution, when the
	// run has a recovery store.
	Execution uint64 `json:"execution,omitempty"`
	Resume    uint64 `json:"resume,omitempty"`
}

// join exchanges partition lists (and, from process 0, the recovery
// execution) with the other processes and waits for every one of them.
func (r *runner) join(ctx context.Context, nc *nats.Conn, cfg *engine.Config) (*cluster.Mesh, error) {
	local, err := engine.LocalReach(ctx, r.plan, cfg.Guests, cfg.FirstWorker, cfg.TotalWorkers)
	if err != nil {
		return nil, err
	}
	recovering := r.opts.RecoveryDir != ""
	mine := hello{Reach: local, Recovering: recovering}
	if cfg.Recovery != nil {
		mine.Execution, mine.Resume = cfg.Recovery.Execution, cfg.Recovery.Resume
	}
	b, err := json.Marshal(mine)
	if err != nil {
		return nil, err
	}
	mesh, raw, err := cluster.Join(ctx, nc, r.opts.RunID, r.opts.ProcessID, r.opts.Processes, b, r.opts.Addresses, r.opts.JoinTimeout)
	if err != nil {
		return nil, err
	}
	hellos, err := decodeHellos(raw, recovering)
	if err == nil {
		cfg.Reach = mergeReach(hellos, cfg.TotalWorkers)
		if recovering && cfg.Recovery == nil {
			cfg.Recovery, err = r.joinRecovery(ctx, hellos[0])
		}
	}
	if err != nil {
		mesh.Close()
		return nil, err
	}
	return mesh, nil
}

// decodeHellos reads every process's hello and checks that all of them
// agree with this one on recovery.
func decodeHellos(raw [][]byte, recovering bool) ([]hello, error) {
	out := make([]hello, len(raw))
	for p, h := range raw {
		if err := json.Unmarshal(h, &out[p]); err != nil {
			return nil, fmt.Errorf("host: process %d sent a malformed hello: %w", p, err)
		}
		if out[p].Recovering != recovering {
			return nil, fmt.Errorf("%w: process %d runs %s a recovery directory and this one %s; give every process the same --recovery-directory",
				ErrBadOptions, p, with(out[p].Recovering), with(recovering))
		}
	}
	return out, nil
}

func with(b bool) string {
	if b {
		return "with"
	}
	return "without"
}

// mergeReach combines every process's partition lists.
func mergeReach(hellos []hello, total int) map[int][][]string {
	out := map[int][][]string{}
	for _, h := range hellos {
		for step, workers := range h.Reach {
			if out[step] == nil {
				out[step] = make([][]string, total)
			}
			for w, parts := range workers {
				if w < total && len(parts) > 0 {
					out[step][w] = parts
				}
			}
		}
	}
	return out
}

// runWatched runs the engine and stops it with the first error any watcher
// reports.
func runWatched(ctx context.Context, cfg engine.Config, watch ...<-chan error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, ch := range watch {
		go func() {
			select {
			case err := <-ch:
				cancel(err)
			case <-ctx.Done():
			}
		}()
	}
	err := engine.Run(ctx, cfg)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return err
}

// redactURL hides the password or token in a NATS URL (or list of URLs).
func redactURL(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		if u, err := url.Parse(strings.TrimSpace(p)); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				u.User = url.UserPassword(u.User.Username(), "xxxxx")
			} else {
				u.User = url.User("xxxxx") // a token
			}
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
