//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// want is the output on testdata/orders.txt and testdata/payments.txt,
// worked out by hand: order 1001 was paid twice and the last payment
// counts; 1003's payment does not parse, so it is unpaid; 9999 was paid
// but never ordered.
var want = []string{
	"1001 alice 2500 2500 card paid",
	"1002 bob 1200 1200 card paid",
	"1003 carol 999 - - unpaid",
	"1004 dave 5000 2500 card short",
	"1005 erin 300 1000 cash paid",
	"9999 - - 100 cash no-order",
}

// TestJoin runs the flow on the testdata files and on generated orders
// and payments, on one and two workers, and checks every line: against
// the hand-made list, and against a plain Go join of the same files.
func TestJoin(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	orders, err := os.ReadFile(filepath.Join("testdata", "orders.txt"))
	if err != nil {
		t.Fatal(err)
	}
	payments, err := os.ReadFile(filepath.Join("testdata", "payments.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := model(string(orders), string(payments)); !slices.Equal(got, want) {
		t.Fatalf("the model disagrees with the hand-made list:\n got %q\nwant %q", got, want)
	}
	genOrders, genPayments := generated(1500)
	cases := []struct {
		name             string
		orders, payments string
		want             []string
	}{
		{"testdata", string(orders), string(payments), want},
		{"generated", genOrders, genPayments, model(genOrders, genPayments)},
		{"no payments", string(orders), "", model(string(orders), "")},
		{"empty", "", "", nil},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/w%d", tc.name, workers), func(t *testing.T) {
				got := run(t, wasm, tc.orders, tc.payments, workers)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %d lines, want %d\n got %.600q\nwant %.600q", len(got), len(tc.want), got, tc.want)
				}
			})
		}
	}
}

// run writes the two inputs to files, runs get_flow on them and returns
// the sorted output lines.
func run(t *testing.T, wasm, orders, payments string, workers int) []string {
	t.Helper()
	dir := t.TempDir()
	for name, s := range map[string]string{"orders.txt": orders, "payments.txt": payments} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	opts := host.Options{WorkersPerProcess: workers, WorkDir: dir, Stdout: &out, CacheDir: testutil.CacheDir(t)}
	if err := host.Run(context.Background(), wasm, "get_flow('orders.txt', 'payments.txt')", opts); err != nil {
		t.Fatal(err)
	}
	return sortedLines(out.String())
}

// model joins the files without the flow: the last order and the last
// payment of each order id, in file order.
func model(orders, payments string) []string {
	order, payment := map[string]*Record{}, map[string]*Record{}
	for _, l := range strings.Split(orders, "\n") {
		if kv, ok := parseOrder(l); ok {
			order[kv.Key] = &kv.Value
		}
	}
	for _, l := range strings.Split(payments, "\n") {
		if kv, ok := parsePayment(l); ok {
			payment[kv.Key] = &kv.Value
		}
	}
	var out []string
	for id := range order {
		out = append(out, line(id, order[id], payment[id]))
	}
	for id, p := range payment {
		if order[id] == nil {
			out = append(out, line(id, nil, p))
		}
	}
	slices.Sort(out)
	return out
}

func line(id string, o, p *Record) string {
	f := []string{id, "-", "-", "-", "-", Status(o, p)}
	if o != nil {
		f[1], f[2] = o.Customer, strconv.FormatInt(o.Cents, 10)
	}
	if p != nil {
		f[3], f[4] = strconv.FormatInt(p.Cents, 10), p.Method
	}
	return strings.Join(f, " ")
}

// generated returns n orders and about as many payments: most orders paid
// once, some twice, some never, some short, and a few payments for
// orders that do not exist.
func generated(n int) (orders, payments string) {
	rng := rand.New(rand.NewPCG(9, 10))
	var o, p strings.Builder
	methods := []string{"card", "cash", "voucher"}
	for i := range n {
		id, cents := 10000+i, 100+rng.IntN(10000)
		fmt.Fprintf(&o, "%d,customer%d,%d\n", id, rng.IntN(200), cents)
		for range rng.IntN(3) {
			fmt.Fprintf(&p, "%d,%d,%s\n", id, cents-rng.IntN(3)*50, methods[rng.IntN(len(methods))])
		}
		if rng.IntN(50) == 0 {
			fmt.Fprintf(&p, "%d,%d,cash\n", 90000+i, rng.IntN(1000))
		}
	}
	return o.String(), p.String()
}

func sortedLines(s string) []string {
	lines := strings.Split(s, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	slices.Sort(lines)
	return lines
}
