package cluster

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// readyPoll is how long each check of waitReady waits for the listeners.
const readyPoll = 50 * time.Millisecond

// fatalLogger is an embedded server's logger that keeps only its fatal
// errors, such as a listener that cannot bind, which the server would
// otherwise drop while StartServer waits for it in vain.
type fatalLogger struct {
	errs chan error
	cfg  ServerConfig
}

// Fatalf records a fatal error: the server does not start.
func (l *fatalLogger) Fatalf(format string, v ...any) {
	select {
	case l.errs <- l.explain(format, v):
	default: // one is enough
	}
}

// explain names the listener and the address a fatal error is about.
func (l *fatalLogger) explain(format string, v []any) error {
	which, addr := "client", l.cfg.Listen
	if strings.Contains(format, "router") {
		which, addr = "route", l.cfg.ClusterListen
	}
	for _, a := range v {
		if err, ok := a.(error); ok && errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: %s listener: %w: %s (another program listens there: choose another port)",
				ErrServer, which, ErrAddrInUse, addr)
		}
	}
	return fmt.Errorf("%w: %s listener at %s: %s", ErrServer, which, addr, fmt.Sprintf(format, v...))
}

// Noticef drops a notice.
func (l *fatalLogger) Noticef(string, ...any) {}

// Warnf drops a warning.
func (l *fatalLogger) Warnf(string, ...any) {}

// Errorf drops an error the server survives.
func (l *fatalLogger) Errorf(string, ...any) {}

// Debugf drops a debug line.
func (l *fatalLogger) Debugf(string, ...any) {}

// Tracef drops a trace line.
func (l *fatalLogger) Tracef(string, ...any) {}

// waitReady waits until s accepts connections, fails, or serverReadyTimeout
// passes.
func (l *fatalLogger) waitReady(s *server.Server) error {
	deadline := time.Now().Add(serverReadyTimeout)
	for !s.ReadyForConnections(readyPoll) {
		select {
		case err := <-l.errs:
			return err
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: not ready for connections within %s (listen %q, cluster %q)",
				ErrServer, serverReadyTimeout, l.cfg.Listen, l.cfg.ClusterListen)
		}
	}
	return nil
}
