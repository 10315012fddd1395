package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// RemoteError is returned by a process of a clustered run that stopped
// because another process failed; the other process reports the error
// itself.
type RemoteError = cluster.RemoteError

// runCluster runs this process's share of a clustered run: it joins the
// other processes over NATS, agrees with them on partitions, and stops
// them all on the first failure anywhere.
func (r *runner) runCluster(ctx context.Context) error {
	nc, err := nats.Connect(r.opts.NATSURL, nats.Name(fmt.Sprintf("bxwasm %s process %d", r.opts.RunID, r.opts.ProcessID)))
	if err != nil {
		return fmt.Errorf("host: connecting to NATS at %s: %w", r.opts.NATSURL, err)
	}
	defer nc.Close()
	cfg := r.engineConfig()
	mesh, err := r.join(ctx, nc, &cfg)
	if err != nil {
		return err
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
	if err := tr.AwaitPeers(ctx); err != nil {
		return err
	}
	for i := range r.insts {
		cfg.Endpoints = append(cfg.Endpoints, tr.Endpoint(cfg.FirstWorker+i))
	}
	err = runWatched(ctx, cfg, mesh.Watch(), tr.Err())
	if err == nil {
		mesh.Done()
		err = fin.Wait(ctx, nc, r.opts.ProcessID, mesh.Watch())
	}
	var remote *RemoteError
	if err != nil && !errors.As(err, &remote) {
		mesh.Abort(err)
	}
	return err
}

// join exchanges partition lists with the other processes and waits for
// every one of them.
func (r *runner) join(ctx context.Context, nc *nats.Conn, cfg *engine.Config) (*cluster.Mesh, error) {
	local, err := engine.LocalReach(ctx, r.plan, cfg.Guests, cfg.FirstWorker, cfg.TotalWorkers)
	if err != nil {
		return nil, err
	}
	hello, err := json.Marshal(local)
	if err != nil {
		return nil, err
	}
	mesh, hellos, err := cluster.Join(ctx, nc, r.opts.RunID, r.opts.ProcessID, r.opts.Processes, hello, r.opts.Addresses, r.opts.JoinTimeout)
	if err != nil {
		return nil, err
	}
	if cfg.Reach, err = mergeReach(hellos, cfg.TotalWorkers); err != nil {
		mesh.Close()
		return nil, err
	}
	return mesh, nil
}

// mergeReach combines every process's partition lists.
func mergeReach(hellos [][]byte, total int) (map[int][][]string, error) {
	out := map[int][][]string{}
	for p, h := range hellos {
		var reach map[int][][]string
		if err := json.Unmarshal(h, &reach); err != nil {
			return nil, fmt.Errorf("host: process %d sent a malformed hello: %w", p, err)
		}
		for step, workers := range reach {
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
	return out, nil
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
