// Package engine executes a plan on workers. Each worker is one goroutine
// owning one guest instance; it reads the source partitions assigned to it,
// pushes batches through fused guest calls, exchanges keyed items with the
// workers that own their keys, and tracks epochs with frontiers that travel
// in order with the data (see aligner). With a recovery store it snapshots
// what each epoch changed when the epoch closes and resumes from the last
// epoch every worker committed (see checkpoint.go and recover.go).
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/transport"
)

// Guest is what a worker needs of its guest instance (internal/guest's
// Instance). Results alias the instance's buffer until its next call.
type Guest interface {
	RunChain(ctx context.Context, q abi.ChainRequest) (abi.ChainResponse, error)
	StatefulBatch(ctx context.Context, q abi.StatefulRequest) (abi.KeyedUpdates, error)
	Notify(ctx context.Context, q abi.KeysRequest) (abi.KeyedUpdates, error)
	EOF(ctx context.Context, q abi.StepRequest) (abi.KeyedUpdates, error)
	Snapshot(ctx context.Context, q abi.KeysRequest) (abi.Snapshots, error)
	Restore(ctx context.Context, s abi.Snapshots) error
	PartSnapshot(ctx context.Context, q abi.HandleRequest) (abi.OptBytes, error)
	ListParts(ctx context.Context, q abi.PartsRequest) ([]string, error)
	BuildPart(ctx context.Context, q abi.BuildPartRequest) error
	NextBatch(ctx context.Context, q abi.HandleRequest) (abi.NextBatch, error)
	WriteBatch(ctx context.Context, q abi.WriteRequest) error
	ClosePart(ctx context.Context, q abi.HandleRequest) error
}

// Config is everything a run of the engine needs.
type Config struct {
	Plan *plan.Plan
	// Guests holds one built guest per local worker, with every chain of
	// the plan fused (chain id = node index).
	Guests []Guest
	// FirstWorker is the global index of Guests[0]; TotalWorkers counts the
	// workers of every process.
	FirstWorker, TotalWorkers int
	// Endpoints holds each local worker's side of the transport.
	Endpoints []transport.Endpoint
	// Sources and Sinks are the host connectors by step index:
	// connectors.PartitionedSource, and connectors.PartitionedSink or
	// connectors.DynamicSink.
	Sources map[int]connectors.PartitionedSource
	Sinks   map[int]any
	// Reach, in a clustered run, holds for every guest-partitioned source
	// and sink step the partitions each worker of every process reaches
	// (see LocalReach), so every process assigns partitions alike. Steps
	// absent from it are asked of the local guests.
	Reach map[int][][]string
	// EpochInterval is how often inputs close an epoch.
	EpochInterval time.Duration
	// Credit is how many bytes a worker may have in flight to other workers
	// before it stops reading its sources (default 8 MiB).
	Credit int64
	// BatchSize is the most items a host source puts in one batch
	// (default 4096).
	BatchSize int
	// Recovery, when set, loads state of the last committed epoch before the
	// run and snapshots it at every epoch close.
	Recovery *Recovery
	// Clock is where the run reads the time (default WallClock).
	Clock Clock
	// DeadLetter, when set, keeps the poison items of host sources (see
	// deadletter.go): it gets the input step, the item's value and the
	// step error the chain reading it reported, and says whether it kept
	// the item (false: that source has no dead letters, and the run fails).
	DeadLetter func(step int, value []byte, err error) (bool, error)
	// Stop, when closed, stops the run gracefully: sources stop reading,
	// every epoch read so far is closed (and snapshotted), and Run returns
	// nil without calling on_eof.
	Stop <-chan struct{}
}

// start is the first epoch of this execution.
func (c *Config) start() uint64 {
	if c.Recovery != nil && c.Recovery.Resume > 1 {
		return c.Recovery.Resume
	}
	return 1
}

// ErrConfig is wrapped by errors about a bad Config.
var ErrConfig = errors.New("engine: bad config")

func (c *Config) validate() error {
	if c.Plan == nil || len(c.Guests) == 0 || len(c.Guests) != len(c.Endpoints) {
		return fmt.Errorf("%w: need a plan and one guest and endpoint per worker", ErrConfig)
	}
	if c.TotalWorkers < c.FirstWorker+len(c.Guests) {
		return fmt.Errorf("%w: %d workers total, but local workers end at %d", ErrConfig, c.TotalWorkers, c.FirstWorker+len(c.Guests))
	}
	if c.EpochInterval <= 0 {
		c.EpochInterval = 10 * time.Second
	}
	if c.Credit <= 0 {
		c.Credit = 8 << 20
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 4096
	}
	if c.Clock == nil {
		c.Clock = WallClock{}
	}
	return nil
}

// Run executes the plan on the local workers until every input is
// exhausted and every epoch is closed, or until the first error, which
// stops every worker and is returned.
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers, err := newWorkers(ctx, &cfg)
	if err != nil {
		return err
	}
	var commits *committer
	if cfg.Recovery != nil {
		commits = newCommitter(cfg.Recovery, len(workers), cancel)
		for _, w := range workers {
			w.commits = commits
			commits.staged = append(commits.staged, w.stagedSinks()...)
		}
	}
	start := cfg.Clock.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if errs[i] = w.run(ctx, start); errs[i] != nil {
				cancel(errs[i])
			}
		}()
	}
	wg.Wait()
	if commits != nil {
		commits.close() // a failed write cancels ctx with its error
		if err := commits.finish(ctx, firstError(ctx, errs) == nil); err != nil {
			cancel(err)
		}
	}
	return firstError(ctx, errs)
}

// firstError prefers the error that stopped the run over the cancellations
// it caused in other workers.
func firstError(ctx context.Context, errs []error) error {
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
