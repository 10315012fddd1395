package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// The Kafka flow's input: kafkaRecords records over kafkaInParts
// partitions, keyed "k0" to "k<kafkaKeys-1>"; its output topics have
// kafkaOutParts partitions.
const (
	kafkaRecords  = 5000
	kafkaKeys     = 100
	kafkaInParts  = 4
	kafkaOutParts = 3
)

// kafka is an in-process Kafka cluster holding the flow's input in topic
// "in", with a client on it.
type kafka struct {
	t  *testing.T
	c  *kfake.Cluster
	cl *kgo.Client
}

// newKafka starts the cluster and produces n input records: record i has
// key "k<i mod kafkaKeys>" and goes to partition (i/7) mod kafkaInParts,
// so each key's records are spread over the partitions.
func newKafka(t *testing.T, n int) *kafka {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(kafkaInParts, "in"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	k := &kafka{t: t, c: c, cl: cl}
	var recs []*kgo.Record
	for i := range n {
		recs = append(recs, &kgo.Record{Topic: "in", Partition: int32(i / 7 % kafkaInParts),
			Key: fmt.Appendf(nil, "k%d", i%kafkaKeys), Value: fmt.Appendf(nil, "%d", i)})
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return k
}

// connection is the --connection flag that binds the flow's "kafka".
func (k *kafka) connection() string {
	return "kafka=kafka://" + strings.Join(k.c.ListenAddrs(), ",kafka://")
}

// topic creates an output topic.
func (k *kafka) topic(name string) string {
	if err := k.c.CreateTopic(name, kafkaOutParts, nil); err != nil {
		k.t.Fatal(err)
	}
	return name
}

// records returns the records of an output topic as "key=value" lines,
// partition by partition in offset order.
func (k *kafka) records(topic string) []string { return k.recordsOf(topic, kafkaOutParts) }

// recordsOf returns the records of a topic of parts partitions.
func (k *kafka) recordsOf(topic string, parts int32) []string {
	t := k.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(k.cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for p := range parts {
		end, _ := ends.Lookup(topic, p)
		if end.Offset == 0 {
			continue
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(k.c.ListenAddrs()...),
			kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().AtStart()}}))
		if err != nil {
			t.Fatal(err)
		}
		for next := int64(0); next < end.Offset; {
			fs := cl.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatalf("reading %s/%d: %v", topic, p, err)
			}
			fs.EachRecord(func(r *kgo.Record) {
				out = append(out, string(r.Key)+"="+string(r.Value))
				next = r.Offset + 1
			})
		}
		cl.Close()
	}
	return out
}

// checkCounts checks that the records of topic are every key's running
// counts, each once and in order: of n input records, key "k<j>" counts
// to n/kafkaKeys.
func (k *kafka) checkCounts(topic string, n int) {
	k.t.Helper()
	got := map[string][]int{}
	recs := k.records(topic)
	for _, l := range recs {
		key, v, _ := strings.Cut(l, "=")
		c, _ := strconv.Atoi(v)
		got[key] = append(got[key], c)
	}
	bad := 0
	for j := range kafkaKeys {
		key := fmt.Sprintf("k%d", j)
		if diff := countsDiffer(got[key], n/kafkaKeys); diff != "" && bad < 5 {
			bad++
			k.t.Errorf("%s: key %s: %s", topic, key, diff)
		}
	}
	if len(recs) != n {
		k.t.Errorf("%s holds %d records, want %d", topic, len(recs), n)
	}
}

// countsDiffer describes how counts differ from 1, 2, ..., n.
func countsDiffer(counts []int, n int) string {
	for i, c := range counts {
		if c != i+1 {
			return fmt.Sprintf("count %d of %d is %d, want %d", i+1, len(counts), c, i+1)
		}
	}
	if len(counts) != n {
		return fmt.Sprintf("%d counts, want %d", len(counts), n)
	}
	return ""
}

// kafkaFlow builds the flow and returns its spec for a run from topic in
// to topic out.
func kafkaFlow(t *testing.T, out string) string {
	return testutil.BuildWasm(t, "testdata/kafkaflow") + ":count('in', '" + out + "')"
}

// TestKafkaScales counts the input's keys into an output topic at three
// scales: each output holds exactly every running count once.
func TestKafkaScales(t *testing.T) {
	k := newKafka(t, kafkaRecords)
	for _, shape := range [][]string{{"-w1"}, {"-w3"}, {"-p2", "-w2"}} {
		t.Run(strings.Join(shape, ""), func(t *testing.T) {
			out := k.topic("out" + strings.Join(shape, ""))
			args := append([]string{"run", kafkaFlow(t, out), "--connection", k.connection()}, shape...)
			start := time.Now()
			r := bxwasm(t, t.TempDir(), "", []string{cacheEnv(t)}, args...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.err)
			}
			t.Logf("%d records in %v", kafkaRecords, time.Since(start))
			k.checkCounts(out, kafkaRecords)
		})
	}
}

// kafkaChaosScales are the shapes of the chaos test's runs, one per
// attempt: the first is killed after it committed, each next one resumes
// on another shape and is killed too, until the last, which runs to its
// end.
var kafkaChaosScales = [][]string{{"-p2", "-w2"}, {"-w3"}, {"-p2", "-w2"}, {"-w1"}, {"-w2"}, {"-p2", "-w1"}, {"-w3"}}

// kafkaChaosRecords is the chaos test's input: enough for a run to span
// a dozen epochs of 0.5 s, so that kills fall between commits.
var kafkaChaosRecords = envInt("BXWASM_KAFKA_CHAOS_RECORDS", 200_000)

// kafkaKillWithin is how long after its first commit a chaos run is
// killed at most: two epochs, so that each run gets a little further and
// most runs are killed.
const kafkaKillWithin = time.Second

// TestKafkaChaos runs the count flow with a recovery store, SIGKILLs the
// whole process group at a random moment after the run committed an
// epoch, and resumes on another shape each time until a run exits 0: the
// output topic then holds exactly the records of a clean run, none lost,
// none twice.
func TestKafkaChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("a chaos test: runs the flow up to seven times")
	}
	n := kafkaChaosRecords
	k := newKafka(t, n)
	dir := t.TempDir()
	clean := k.topic("clean")
	start := time.Now()
	if code, _, stderr := kafkaRun(t, dir, kafkaFlow(t, clean), k.connection(), "clean.rec", 0, "-p2", "-w2"); code != 0 {
		t.Fatalf("clean run: exit %d: %s", code, stderr)
	}
	took := time.Since(start)
	want := k.records(clean)
	slices.Sort(want)

	seed := time.Now().UnixNano()
	rnd := rand.New(rand.NewPCG(uint64(seed), 0))
	t.Logf("seed %d; a clean run took %v", seed, took)
	out := k.topic("chaos")
	kills := 0
	for i, shape := range kafkaChaosScales {
		kill := time.Duration(0)
		if i < len(kafkaChaosScales)-1 {
			kill = time.Duration(rnd.Int64N(int64(kafkaKillWithin)))
		}
		code, killed, stderr := kafkaRun(t, dir, kafkaFlow(t, out), k.connection(), "chaos.rec", kill, shape...)
		if killed {
			kills++
			t.Logf("%s: killed %v after its first commit; the store resumes from epoch %d",
				strings.Join(shape, " "), kill, resumeEpoch(filepath.Join(dir, "chaos.rec")))
			continue
		}
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", strings.Join(shape, " "), code, stderr)
		}
		break
	}
	if kills == 0 {
		t.Errorf("every run ended before its kill (a clean run took %v): nothing was tested", took)
	}
	got := k.records(out)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("the chaos run's output differs from a clean run's: %d records, want %d", len(got), len(want))
	}
	k.checkCounts(out, n)
}

// kafkaRun runs flow in dir with the store rec. With kill > 0 it SIGKILLs
// the run's process group kill after the store shows that the run
// committed an epoch. It returns the exit code, whether the kill ended the
// run, and its standard error.
func kafkaRun(t *testing.T, dir, flow, conn, rec string, kill time.Duration, shape ...string) (int, bool, string) {
	t.Helper()
	store := filepath.Join(dir, rec)
	from := resumeEpoch(store)
	args := append([]string{"run", flow, "--connection", conn, "-r", store, "-s", "0.5"}, shape...)
	cmd := exec.Command(binary(t), args...)
	cmd.Dir, cmd.Env = dir, append(cleanEnv(), cacheEnv(t))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr testutil.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	limit := time.After(2 * time.Minute)
	var killAt <-chan time.Time
	commit := time.NewTicker(20 * time.Millisecond)
	defer commit.Stop()
	if kill == 0 {
		commit.Stop()
	}
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				t.Fatal(err)
			}
			ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
			return cmd.ProcessState.ExitCode(), ws.Signaled() && ws.Signal() == syscall.SIGKILL, stderr.String()
		case <-commit.C:
			if resumeEpoch(store) > from {
				commit.Stop()
				killAt = time.After(kill)
			}
		case <-killAt:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		case <-limit:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Fatalf("%v did not end within 2 minutes:\n%s", args, stderr.String())
		}
	}
}

// resumeEpoch is where a run on the store in dir would resume now (1 for
// no store yet).
func resumeEpoch(dir string) uint64 {
	sum, err := recovery.Inspect(context.Background(), dir)
	if err != nil {
		return 1
	}
	return sum.ResumeEpoch
}

// envInt reads an integer from the environment, or returns def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestKafkaThroughput measures the count flow at -w1 over
// BXWASM_KAFKA_BENCH records (skipped without it), next to a plain
// franz-go consumer reading the same records:
//
//	BXWASM_KAFKA_BENCH=1000000 go test -run TestKafkaThroughput -v ./cmd/bxwasm/
func TestKafkaThroughput(t *testing.T) {
	n := envInt("BXWASM_KAFKA_BENCH", 0)
	if n == 0 {
		t.Skip("set BXWASM_KAFKA_BENCH to the number of records")
	}
	k := newKafka(t, n)
	start := time.Now()
	if got := len(k.recordsOf("in", kafkaInParts)); got != n {
		t.Fatalf("the plain consumer read %d records, want %d", got, n)
	}
	plain := time.Since(start)
	out := k.topic("out")
	bxwasm(t, t.TempDir(), "", []string{cacheEnv(t)}, "inspect", kafkaFlow(t, out)) // compiles the module
	start = time.Now()
	r := bxwasm(t, t.TempDir(), "", []string{cacheEnv(t)}, "run", kafkaFlow(t, out), "--connection", k.connection(), "-w1")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	flow := time.Since(start)
	k.checkCounts(out, n)
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	t.Logf("%d records: the flow at -w1 %.0f records/s (%v), a plain consumer %.0f records/s (%v): ratio %.2f",
		n, rate(flow), flow, rate(plain), plain, plain.Seconds()/flow.Seconds())
}
