package cluster

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ErrAddresses is wrapped by ParsePeers' errors.
var ErrAddresses = errors.New("cluster: bad addresses")

// Peer is one process of a manual cluster: the address its embedded NATS
// server takes clients at, and the one it takes routes from the other
// servers at.
type Peer struct {
	Client string // host:port
	Route  string // host:port
}

// endpoint is a parsed host and port, and what it is for, for errors.
type endpoint struct {
	host string
	port int
	what string
}

// ParsePeers parses the addresses of a manual cluster (-a), in process
// order: "host:port", or "host:port/routeport" to choose the route port.
// An address without one gets the first port above its own that no other
// address on the same host uses, as a client or route port; every process
// computes the same ports from the same list. Two addresses that collide
// are an error naming both.
func ParsePeers(addrs []string) ([]Peer, error) {
	clients, routes, err := parseEndpoints(addrs)
	if err != nil {
		return nil, err
	}
	used := append([]endpoint(nil), clients...)
	for _, r := range routes {
		if r.port != 0 {
			used = append(used, r)
		}
	}
	if err := checkCollisions(used); err != nil {
		return nil, err
	}
	peers := make([]Peer, len(addrs))
	for i, c := range clients {
		r := routes[i]
		if r.port == 0 {
			if r.port, err = freeRoutePort(c, used); err != nil {
				return nil, err
			}
			used = append(used, r)
		}
		peers[i] = Peer{Client: c.String(), Route: r.String()}
	}
	return peers, nil
}

// parseEndpoints parses every address into its client endpoint and its
// route endpoint (port 0 when not given).
func parseEndpoints(addrs []string) (clients, routes []endpoint, err error) {
	for i, a := range addrs {
		client, route, hasRoute := strings.Cut(a, "/")
		c, err := parseEndpoint(client)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: address %q: %w (want host:port or host:port/routeport)", ErrAddresses, a, err)
		}
		c.what = fmt.Sprintf("process %d", i)
		r := endpoint{host: c.host, what: fmt.Sprintf("route of process %d", i)}
		if hasRoute {
			if r.port, err = parsePort(route); err != nil {
				return nil, nil, fmt.Errorf("%w: address %q: route %w", ErrAddresses, a, err)
			}
		}
		clients, routes = append(clients, c), append(routes, r)
	}
	return clients, routes, nil
}

// parseEndpoint parses host:port with a port from 1 to 65535.
func parseEndpoint(addr string) (endpoint, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return endpoint{}, err
	}
	port, err := parsePort(p)
	return endpoint{host: h, port: port}, err
}

// parsePort parses a port from 1 to 65535.
func parsePort(p string) (int, error) {
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("port %q is not between 1 and 65535", p)
	}
	return port, nil
}

// checkCollisions refuses two endpoints that would bind the same port.
func checkCollisions(used []endpoint) error {
	for i, a := range used {
		for _, b := range used[:i] {
			if a.collides(b) {
				return fmt.Errorf("%w: %s (%s) and %s (%s) use the same port on one host: give each its own port (host:port/routeport sets a route port)",
					ErrAddresses, b, b.what, a, a.what)
			}
		}
	}
	return nil
}

// freeRoutePort is the first port above c's that no endpoint in used takes.
func freeRoutePort(c endpoint, used []endpoint) (int, error) {
	for port := c.port + 1; port <= 65535; port++ {
		if !collidesAny(endpoint{host: c.host, port: port}, used) {
			return port, nil
		}
	}
	return 0, fmt.Errorf("%w: no free route port above %s: set one with %s/routeport", ErrAddresses, c, c)
}

func collidesAny(e endpoint, used []endpoint) bool {
	for _, u := range used {
		if e.collides(u) {
			return true
		}
	}
	return false
}

// collides reports whether e and o may bind the same socket: same port,
// and the same host or a wildcard one ("", 0.0.0.0, ::) that binds every
// address.
func (e endpoint) collides(o endpoint) bool {
	if e.port != o.port {
		return false
	}
	a, b := canonicalHost(e.host), canonicalHost(o.host)
	return a == b || a == "*" || b == "*"
}

// canonicalHost makes equal the spellings of one host: "*" for every
// wildcard, 127.0.0.1 for localhost.
func canonicalHost(h string) string {
	if strings.EqualFold(h, "localhost") {
		return "127.0.0.1"
	}
	if ip := net.ParseIP(h); ip != nil {
		if ip.IsUnspecified() {
			return "*"
		}
		return ip.String()
	}
	if h == "" {
		return "*"
	}
	return strings.ToLower(h)
}

// String is host:port.
func (e endpoint) String() string { return net.JoinHostPort(e.host, strconv.Itoa(e.port)) }

// NotLoopback is the first peer address whose host is not a loopback
// address or localhost, or "" for a cluster nothing outside this machine
// can reach.
func NotLoopback(peers []Peer) string {
	for _, p := range peers {
		h, _, _ := net.SplitHostPort(p.Client)
		ip := net.ParseIP(h)
		if !strings.EqualFold(h, "localhost") && (ip == nil || !ip.IsLoopback()) {
			return p.Client
		}
	}
	return ""
}

// Clients lists the peers' client addresses.
func Clients(peers []Peer) []string {
	out := make([]string, len(peers))
	for i, p := range peers {
		out[i] = p.Client
	}
	return out
}
