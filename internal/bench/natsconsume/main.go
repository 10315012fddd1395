// Command natsconsume is the baseline of the benchmark's stream figure: a
// plain nats.go program that counts the messages of a JetStream stream per
// payload (each payload is a key) and publishes one "key count" message
// per key into another stream.
//
//	natsconsume -url nats://127.0.0.1:4222 -stream EVENTS -out counts
//
// It reads the stream as a careful Go programmer would: one ordered
// consumer per subject of the stream, each on its own goroutine with its
// own map (a key is always on the same subject, so the maps never share a
// key), up to the last message each subject held when it started; then it
// publishes the counts asynchronously and waits for every acknowledgement.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// batch is how many messages a consumer pulls at once.
const batch = 1000

func main() {
	url := flag.String("url", nats.DefaultURL, "the NATS server")
	stream := flag.String("stream", "EVENTS", "the stream to count")
	out := flag.String("out", "counts", "the subject to publish the counts to")
	flag.Parse()
	if err := run(*url, *stream, *out); err != nil {
		fmt.Fprintln(os.Stderr, "natsconsume:", err)
		os.Exit(1)
	}
}

func run(url, stream, out string) error {
	nc, err := nats.Connect(url)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4*batch))
	if err != nil {
		return err
	}
	counts, err := countStream(js, stream)
	if err != nil {
		return err
	}
	return publish(js, out, counts)
}

// countStream counts every subject of stream on its own goroutine and
// merges the counts.
func countStream(js jetstream.JetStream, name string) (map[string]int, error) {
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("stream %q: %w", name, err)
	}
	subjects := s.CachedInfo().Config.Subjects
	parts := make([]map[string]int, len(subjects))
	errs := make([]error, len(subjects))
	var wg sync.WaitGroup
	for i, subj := range subjects {
		wg.Go(func() { parts[i], errs[i] = countSubject(s, subj) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	all := map[string]int{}
	for _, p := range parts {
		for k, n := range p {
			all[k] += n
		}
	}
	return all, nil
}

// countSubject counts the payloads of one subject up to the last message
// it holds now.
func countSubject(s jetstream.Stream, subject string) (map[string]int, error) {
	ctx := context.Background()
	counts := map[string]int{}
	last, err := s.GetLastMsgForSubject(ctx, subject)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return counts, nil
	}
	if err != nil {
		return nil, fmt.Errorf("subject %q: %w", subject, err)
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return nil, fmt.Errorf("subject %q: %w", subject, err)
	}
	it, err := c.Messages(jetstream.PullMaxMessages(batch))
	if err != nil {
		return nil, fmt.Errorf("subject %q: %w", subject, err)
	}
	defer it.Stop()
	for {
		m, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("subject %q: %w", subject, err)
		}
		counts[string(m.Data())]++
		meta, err := m.Metadata()
		if err != nil {
			return nil, fmt.Errorf("subject %q: %w", subject, err)
		}
		if meta.Sequence.Stream >= last.Sequence {
			return counts, nil
		}
	}
}

// publish sends one "key count" message per key to subject and waits for
// the stream to acknowledge them all.
func publish(js jetstream.JetStream, subject string, counts map[string]int) error {
	acks := make([]jetstream.PubAckFuture, 0, len(counts))
	for k, n := range counts {
		line := strconv.AppendInt(append([]byte(k), ' '), int64(n), 10)
		f, err := js.PublishAsync(subject, line)
		if err != nil {
			return fmt.Errorf("publishing to %q: %w", subject, err)
		}
		acks = append(acks, f)
	}
	timeout := time.After(time.Minute)
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publishing to %q: %w", subject, err)
		case <-timeout:
			return fmt.Errorf("publishing to %q: not every count was acknowledged within a minute", subject)
		}
	}
	return nil
}
