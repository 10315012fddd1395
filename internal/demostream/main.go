// Command demostream shows a flow over a live stream: it starts a NATS
// server with JetStream in this process, creates a stream PAYMENTS
// (subjects pay.0 … pay.3) and a stream TOTALS, runs the stream_totals
// example on two processes of two workers with a recovery store, keeps
// publishing payments for a while, and prints every total the flow
// publishes as it arrives. Then it stops the flow as Ctrl-C would (the
// flow finishes its epoch, snapshots it and publishes its last totals) and
// checks that the last total of every user is the sum of its payments.
//
//	go tool task demo-stream
//	go run ./internal/demostream -bxwasm bin/bxwasm -module bin/stream_totals.wasm
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func main() {
	bin := flag.String("bxwasm", "bin/bxwasm", "the bxwasm command")
	module := flag.String("module", "bin/stream_totals.wasm", "the stream_totals example module")
	duration := flag.Duration("for", 8*time.Second, "how long to publish payments")
	rate := flag.Int("rate", 40, "payments a second")
	flag.Parse()
	if err := run(*bin, *module, *duration, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "demo-stream:", err)
		os.Exit(1)
	}
}

var users = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}

func run(bin, module string, duration time.Duration, rate int) error {
	dir, err := os.MkdirTemp("", "bxwasm-demo-stream-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true,
		StoreDir: filepath.Join(dir, "js"), NoSigs: true, NoLog: true})
	if err != nil {
		return err
	}
	srv.Start()
	defer srv.Shutdown()
	if !srv.ReadyForConnections(10 * time.Second) {
		return errors.New("the NATS server did not start")
	}
	nc, err := nats.Connect(srv.ClientURL())
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := createStreams(js); err != nil {
		return err
	}
	printed := printTotals(nc)
	defer printed.Unsubscribe()

	cmdline := []string{"run", module + ":totals('PAYMENTS', 'totals', true)", "--connection", "events=" + srv.ClientURL(),
		"-p2", "-w2", "-r", filepath.Join(dir, "state"), "-s", "0.5"}
	fmt.Printf("==> %s %s\n", bin, strings.Join(cmdline, " "))
	flow := exec.Command(bin, cmdline...)
	flow.Stdout, flow.Stderr = os.Stdout, os.Stderr
	if err := flow.Start(); err != nil {
		return err
	}
	sums, err := publish(js, duration, rate)
	if err != nil {
		flow.Process.Kill()
		flow.Wait()
		return err
	}
	time.Sleep(2 * time.Second) // the last epochs commit and publish
	fmt.Println("==> stopping the flow (SIGINT): it finishes its epoch and publishes what is left")
	flow.Process.Signal(syscall.SIGINT)
	if err := flow.Wait(); err != nil {
		return fmt.Errorf("the flow: %w", err)
	}
	nc.Flush()
	time.Sleep(200 * time.Millisecond)
	return printed.check(sums)
}

// createStreams makes PAYMENTS and TOTALS.
func createStreams(js jetstream.JetStream) error {
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "PAYMENTS",
		Subjects: []string{"pay.0", "pay.1", "pay.2", "pay.3"}}); err != nil {
		return err
	}
	_, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "TOTALS", Subjects: []string{"totals"},
		Duplicates: 10 * time.Minute})
	return err
}

// publish sends rate payments a second for duration, each user on its own
// subject, and returns every user's sum.
func publish(js jetstream.JetStream, duration time.Duration, rate int) (map[string]int64, error) {
	sums := map[string]int64{}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(duration)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		u := rand.IntN(len(users))
		amount := int64(1 + rand.IntN(100))
		msg := users[u] + " " + strconv.FormatInt(amount, 10)
		if _, err := js.Publish(context.Background(), "pay."+strconv.Itoa(u%4), []byte(msg)); err != nil {
			return nil, err
		}
		sums[users[u]] += amount
	}
	return sums, nil
}

// totalsPrinter prints every total the flow publishes and keeps the last
// one of each user.
type totalsPrinter struct {
	*nats.Subscription
	mu   sync.Mutex
	last map[string]int64
}

func printTotals(nc *nats.Conn) *totalsPrinter {
	p := &totalsPrinter{last: map[string]int64{}}
	p.Subscription, _ = nc.Subscribe("totals", func(m *nats.Msg) {
		user, total, _ := strings.Cut(string(m.Data), " ")
		n, _ := strconv.ParseInt(total, 10, 64)
		p.mu.Lock()
		p.last[user] = max(p.last[user], n)
		p.mu.Unlock()
		fmt.Printf("%s  %-6s total %s\n", time.Now().Format("15:04:05.000"), user, total)
	})
	return p
}

// check compares each user's last total with the sum of its payments.
func (p *totalsPrinter) check(sums map[string]int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for u, s := range sums {
		if p.last[u] != s {
			return fmt.Errorf("user %s: last total %d, but its payments sum to %d", u, p.last[u], s)
		}
	}
	fmt.Printf("==> every user's last total is the sum of its payments (%d users)\n", len(sums))
	return nil
}
