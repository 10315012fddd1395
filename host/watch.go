package host

import (
	"fmt"
	"strings"

	"github.com/bxwasm/bxwasm/internal/plan"
	"github.com/bxwasm/bxwasm/internal/watchdog"
)

// Watchdog is the table through which a supervising bxwasm process sees
// which step each worker of this process is running inside its guest, and
// for how long; it enforces --call-timeout and --compile-timeout and
// names the step when a stop takes too long. The bxwasm command runs its
// workers in a child process it watches this way; embedders of Run get no
// call limit unless they do the same.
type Watchdog struct{ t *watchdog.Table }

// WatchdogFromEnv opens the table a supervising bxwasm process handed to
// this one, or returns nil, nil when there is none.
func WatchdogFromEnv() (*Watchdog, error) {
	t, err := watchdog.FromEnv()
	if err != nil || t == nil {
		return nil, err
	}
	return &Watchdog{t: t}, nil
}

// table is w's table, nil for a nil Watchdog.
func (w *Watchdog) table() *watchdog.Table {
	if w == nil {
		return nil
	}
	return w.t
}

// watchLabels names every step and fused chain of p for the supervisor.
func watchLabels(p *plan.Plan) watchdog.Labels {
	var l watchdog.Labels
	for _, s := range p.Graph.Steps {
		l.Steps = append(l.Steps, fmt.Sprintf("step %q (%s)", s.ID, s.Kind))
	}
	l.Chains = make([]string, len(p.Nodes))
	for i, n := range p.Nodes {
		if n.Kind != plan.NodeChain {
			continue
		}
		if len(n.Steps) == 1 {
			l.Chains[i] = l.Steps[n.Steps[0]]
			continue
		}
		ids := make([]string, len(n.Steps))
		for k, s := range n.Steps {
			ids[k] = fmt.Sprintf("%q", p.Graph.Steps[s].ID)
		}
		l.Chains[i] = fmt.Sprintf("steps %s (%s, fused into one call)", strings.Join(ids, ", "), p.Graph.Steps[n.Steps[0]].Kind)
	}
	return l
}
