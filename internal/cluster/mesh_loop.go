package cluster

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

// handle dispatches a message from another process of the run.
func (m *Mesh) handle(msg *nats.Msg) {
	kind, p, ok := parseSubject(m.prefix, msg.Subject)
	if !ok || p == m.cfg.Process || p < 0 || p >= m.cfg.Processes {
		return
	}
	now := time.Now()
	switch kind {
	case kindHello:
		m.onHello(p, msg.Data, now)
	case kindBeat:
		m.locked(func() { m.mu.live.heard(p, now) })
	case kindAbort:
		m.report(&RemoteError{Process: p, Message: string(msg.Data)})
	case kindDone:
		m.locked(func() { m.mu.live.finished(p) })
	}
}

// onHello records p's hello and answers it when p still needs hellos.
func (m *Mesh) onHello(p int, data []byte, now time.Time) {
	h, err := decodeHello(data)
	if err != nil {
		return
	}
	m.mu.Lock()
	err = m.recordLocked(p, h, now)
	need := !m.mu.joined
	m.mu.Unlock()
	if err != nil {
		m.report(err)
	}
	if h.need && !h.answer {
		m.announce(need, true)
	}
}

// recordLocked stores p's hello; the last one completes the join.
func (m *Mesh) recordLocked(p int, h hello, now time.Time) error {
	m.mu.live.heard(p, now)
	if m.mu.have[p] {
		if m.mu.instances[p] != h.instance {
			return fmt.Errorf("%w: %s joined twice (two processes use the same id)",
				ErrDuplicateProcess, describe(p, m.name(p)))
		}
		return nil
	}
	m.mu.have[p], m.mu.hellos[p], m.mu.instances[p] = true, h.body, h.instance
	m.mu.count++
	if m.mu.count == m.cfg.Processes && m.mu.joinErr == nil {
		m.mu.joined = true
		m.mu.live.heardAll(now)
		close(m.joinDone)
	}
	return nil
}

// report fails the join if it is still going on, or else sends err to
// Watch if nothing was sent before.
func (m *Mesh) report(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.mu.joined {
		if m.mu.joinErr == nil {
			m.mu.joinErr = err
			close(m.joinDone)
		}
		return
	}
	if !m.mu.reported {
		m.mu.reported = true
		m.watch <- err
	}
}

// loop announces this process until it has joined, then sends heartbeats
// and checks the others'.
func (m *Mesh) loop() {
	defer m.wg.Done()
	t := time.NewTicker(m.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.tick(time.Now())
		}
	}
}

// tick is one period of the loop.
func (m *Mesh) tick(now time.Time) {
	if !m.joined() {
		m.announce(true, false)
		return
	}
	m.nc.Publish(subject(m.prefix, kindBeat, m.cfg.Process), nil)
	if err := m.check(now, m.nc.IsConnected()); err != nil {
		m.report(err)
	}
}

// check returns why this process must stop, if a peer is lost or this
// process has been cut off from NATS for too long. While cut off, silence
// says nothing about the others, so they are given a fresh start after.
func (m *Mesh) check(now time.Time, connected bool) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !connected {
		if m.mu.cutOff.IsZero() {
			m.mu.cutOff = now
		}
		if now.Sub(m.mu.cutOff) > m.cfg.LostAfter {
			return fmt.Errorf("%w for more than %s", ErrDisconnected, m.cfg.LostAfter)
		}
		return nil
	}
	if !m.mu.cutOff.IsZero() {
		m.mu.cutOff = time.Time{}
		m.mu.live.heardAll(now)
	}
	if p, lost := m.mu.live.lost(now); lost {
		return &LostError{Process: p, Address: m.name(p)}
	}
	return nil
}

// announce publishes this process's hello.
func (m *Mesh) announce(need, answer bool) {
	h := hello{need: need, answer: answer, instance: m.instance, body: m.cfg.Hello}
	m.nc.Publish(subject(m.prefix, kindHello, m.cfg.Process), h.encode())
}

// joined reports whether every hello has arrived.
func (m *Mesh) joined() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.joined
}

// locked runs f with the lock held.
func (m *Mesh) locked(f func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f()
}

// name is process p's address, or "" when unknown.
func (m *Mesh) name(p int) string {
	if m.cfg.Names == nil {
		return ""
	}
	return m.cfg.Names[p]
}

// timeoutError names the processes whose hello has not arrived.
func (m *Mesh) timeoutError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var missing []string
	for p, ok := range m.mu.have {
		if !ok {
			label := strconv.Itoa(p)
			if n := m.name(p); n != "" {
				label += " (" + n + ")"
			}
			missing = append(missing, label)
		}
	}
	who := "process "
	if len(missing) > 1 {
		who = "processes "
	}
	return fmt.Errorf("%w: %s%s did not join within %s", ErrJoinTimeout, who, strings.Join(missing, ", "), m.cfg.Timeout)
}
