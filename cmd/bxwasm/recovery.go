package main

import (
	"context"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/bxwasm/bxwasm/internal/recovery"
)

// recoveryCmd is `bxwasm recovery`: the snapshot store of a dataflow,
// like Bytewax's `python -m bytewax.recovery`.
type recoveryCmd struct {
	Init    recoveryInitCmd    `cmd:"" help:"Create a recovery store: its partition files in DIR (made if missing)."`
	Inspect recoveryInspectCmd `cmd:"" help:"Describe a recovery store: executions, workers, resume epoch, snapshots per step."`
}

// recoveryInitCmd is `bxwasm recovery init DIR --partitions N`.
type recoveryInitCmd struct {
	Dir        string `arg:"" name:"DIR" help:"Directory of the store; created if missing."`
	Partitions int    `short:"n" default:"1" help:"Number of SQLite partition files; more spread the writes of many workers."`
}

// Run creates the store.
func (c *recoveryInitCmd) Run(s streams) error {
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return err
	}
	if err := recovery.Init(c.Dir, c.Partitions); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "created %d partition files in %s\n", c.Partitions, c.Dir)
	return nil
}

// recoveryInspectCmd is `bxwasm recovery inspect DIR`.
type recoveryInspectCmd struct {
	Dir string `arg:"" name:"DIR" help:"Directory of the store."`
}

// Run prints the store's summary.
func (c *recoveryInspectCmd) Run(ctx context.Context, s streams) error {
	sum, err := recovery.Inspect(ctx, c.Dir)
	if err != nil {
		return err
	}
	printSummary(s, c.Dir, sum)
	return nil
}

func printSummary(s streams, dir string, sum recovery.Summary) {
	tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
	flow := sum.FlowID
	if flow == "" {
		flow = "(none yet)"
	}
	fmt.Fprintf(tw, "store\t%s (%d partitions)\n", dir, sum.Partitions)
	fmt.Fprintf(tw, "flow\t%s\n", flow)
	fmt.Fprintf(tw, "resume epoch\t%d\n", sum.ResumeEpoch)
	for _, e := range sum.Executions {
		fmt.Fprintf(tw, "execution %d\t%d workers, from epoch %d, frontiers %v\n", e.Number, e.Workers, e.StartEpoch, e.Frontiers)
	}
	for _, st := range sum.Steps {
		fmt.Fprintf(tw, "step %s\t%d snapshots (%d tombstones), %d bytes\n", st.StepID, st.Snapshots, st.Tombstones, st.Bytes)
	}
	tw.Flush()
}
