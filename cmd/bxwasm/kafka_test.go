package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

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
func (k *kafka) connection() string { return "kafka=kafka://" + strings.Join(k.c.ListenAddrs(), ",kafka://") }

// topic creates an output topic.
func (k *kafka) topic(name string) string {
	if err := k.c.CreateTopic(name, kafkaOutParts, nil); err != nil {
		k.t.Fatal(err)
	}
	return name
}

// records returns the records of topic as "key=value" lines, partition
// by partition in offset order.
func (k *kafka) records(topic string) []string {
	t := k.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ends, err := kadm.NewClient(k.cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for p := range int32(kafkaOutParts) {
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
		want := make([]int, n/kafkaKeys)
		for i := range want {
			want[i] = i + 1
		}
		if !slices.Equal(got[key], want) && bad < 5 {
			bad++
			k.t.Errorf("%s: key %s has counts %v, want 1 to %d", topic, key, got[key], n/kafkaKeys)
		}
	}
	if len(recs) != n {
		k.t.Errorf("%s holds %d records, want %d", topic, len(recs), n)
	}
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
