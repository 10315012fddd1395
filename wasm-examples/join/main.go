// Command join matches orders with their payments by order id: it reads
// "order_id,customer,cents" orders and "order_id,cents,method" payments
// from two files, joins them with Join (the last payment of an order
// counts), and when the inputs end prints one line per order id:
//
//	ORDER CUSTOMER ORDERED PAID METHOD STATUS
//
// with STATUS paid (paid at least the order), short (paid less), unpaid
// (no payment) or no-order (a payment for an order never seen), and "-"
// for what a side did not give.
//
// Build it as a bxwasm guest and run it with the CLI:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o join.wasm .
//	bxwasm run join.wasm:"get_flow('testdata/orders.txt', 'testdata/payments.txt')" -w2
package main

import (
	"strconv"
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("get_flow", join, "orders", "payments")
}

// Record is an order or a payment, keyed by its order id: an order has a
// customer, a payment a method.
type Record struct {
	Customer string `json:"customer,omitempty"`
	Method   string `json:"method,omitempty"`
	Cents    int64  `json:"cents"`
}

// join builds the flow over the two files.
func join(orders, payments string) *bx.Dataflow {
	flow := bx.NewDataflow("join")
	o := bx.FilterMap("parse_orders", bx.Input("orders", flow, bx.FileSource(orders)), parseOrder)
	p := bx.FilterMap("parse_payments", bx.Input("payments", flow, bx.FileSource(payments)), parsePayment)
	rows := bx.Join("match", bx.JoinLast, bx.JoinFinal, o, p)
	bx.Output("out", bx.Map("format", rows, format), bx.StdOutSink())
	return flow
}

// parseOrder reads "order_id,customer,cents"; it reports false for
// anything else.
func parseOrder(line string) (bx.KV[Record], bool) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 || f[0] == "" || f[1] == "" {
		return bx.KV[Record]{}, false
	}
	cents, err := strconv.ParseInt(f[2], 10, 64)
	return bx.KV[Record]{Key: f[0], Value: Record{Customer: f[1], Cents: cents}}, err == nil
}

// parsePayment reads "order_id,cents,method"; it reports false for
// anything else.
func parsePayment(line string) (bx.KV[Record], bool) {
	f := strings.Split(strings.TrimSpace(line), ",")
	if len(f) != 3 || f[0] == "" || f[2] == "" {
		return bx.KV[Record]{}, false
	}
	cents, err := strconv.ParseInt(f[1], 10, 64)
	return bx.KV[Record]{Key: f[0], Value: Record{Method: f[2], Cents: cents}}, err == nil
}

// format renders an order id's row [order, payment] (nil for a side with
// no value) as "ORDER CUSTOMER ORDERED PAID METHOD STATUS".
func format(kv bx.KV[[]*Record]) string {
	order, payment := kv.Value[0], kv.Value[1]
	f := []string{kv.Key, "-", "-", "-", "-", Status(order, payment)}
	if order != nil {
		f[1], f[2] = order.Customer, strconv.FormatInt(order.Cents, 10)
	}
	if payment != nil {
		f[3], f[4] = strconv.FormatInt(payment.Cents, 10), payment.Method
	}
	return strings.Join(f, " ")
}

// Status says how an order stands with its payment; either may be nil,
// not both.
func Status(order, payment *Record) string {
	switch {
	case order == nil:
		return "no-order"
	case payment == nil:
		return "unpaid"
	case payment.Cents < order.Cents:
		return "short"
	}
	return "paid"
}

func main() {}
