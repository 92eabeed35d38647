// Command gopeer is the real hashicorp/yamux v0.1.2 client (the one go-plugin uses) driven against the
// TypeScript yamux server in test/goplugin/yamux/interop.test.ts. Each -scenario is one check; the
// server side plays its part of the same scenario. On success the last stdout line is a JSON object
// with what the peer observed and the exit code is 0; on failure the reason goes to stderr, exit code 1.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

type options struct {
	addr         string
	scenario     string
	streams      int
	size         int
	keepalive    time.Duration
	openTimeout  time.Duration
	closeTimeout time.Duration
	idle         time.Duration
	rounds       int
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "", "TCP address of the TypeScript yamux server")
	flag.StringVar(&o.scenario, "scenario", "", "scenario to run")
	flag.IntVar(&o.streams, "streams", 24, "concurrent streams (echo)")
	flag.IntVar(&o.size, "size", 1<<20, "payload size in bytes")
	flag.DurationVar(&o.keepalive, "keepalive", 30*time.Second, "yamux KeepAliveInterval")
	flag.DurationVar(&o.openTimeout, "open-timeout", 75*time.Second, "yamux StreamOpenTimeout")
	flag.DurationVar(&o.closeTimeout, "close-timeout", 5*time.Minute, "yamux StreamCloseTimeout")
	flag.DurationVar(&o.idle, "idle", time.Second, "idle period (idle scenario)")
	flag.IntVar(&o.rounds, "rounds", 1000, "request/reply round trips (round-trips scenario)")
	flag.Parse()

	result, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gopeer %s: FAIL: %v\n", o.scenario, err)
		os.Exit(1)
	}
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

type result map[string]any

var scenarios = map[string]func(*yamux.Session, options) (result, error){
	"echo":            echo,
	"idle":            idle,
	"ping":            ping,
	"digest":          digest,
	"server-reset":    serverReset,
	"client-reset":    clientReset,
	"server-close":    serverClose,
	"client-close":    clientClose,
	"server-open":     serverOpen,
	"server-blocked":  serverBlocked,
	"goplugin-layout": gopluginLayout,
	"round-trips":     roundTrips,
}

func run(o options) (result, error) {
	scenario, ok := scenarios[o.scenario]
	if !ok {
		return nil, fmt.Errorf("unknown -scenario %q", o.scenario)
	}
	conn, err := net.Dial("tcp", o.addr)
	if err != nil {
		return nil, err
	}
	cfg := yamux.DefaultConfig()
	cfg.KeepAliveInterval = o.keepalive
	cfg.StreamOpenTimeout = o.openTimeout
	cfg.StreamCloseTimeout = o.closeTimeout
	session, err := yamux.Client(conn, cfg)
	if err != nil {
		return nil, err
	}
	defer session.Close()
	return scenario(session, o)
}

// payload is the deterministic content both sides agree on for stream-specific data.
func payload(seed, size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*31 + seed*7 + i>>9)
	}
	return b
}

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// echoOnce writes data on a fresh stream while reading the echo, half-closes, and checks the echo.
func echoOnce(session *yamux.Session, data []byte) error {
	stream, err := session.OpenStream()
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer stream.Close()
	writeErr := make(chan error, 1)
	go func() {
		_, err := stream.Write(data)
		if err == nil {
			err = stream.Close() // FIN: the server's echo ends when it sees it
		}
		writeErr <- err
	}()
	got, err := io.ReadAll(stream)
	if err != nil {
		return fmt.Errorf("stream %d read: %w", stream.StreamID(), err)
	}
	if err := <-writeErr; err != nil {
		return fmt.Errorf("stream %d write: %w", stream.StreamID(), err)
	}
	if !bytes.Equal(got, data) {
		return fmt.Errorf("stream %d: echo of %d bytes came back as %d different bytes", stream.StreamID(), len(data), len(got))
	}
	return nil
}

// echo: many concurrent streams of very different sizes, several far above the 256 KiB window.
func echo(session *yamux.Session, o options) (result, error) {
	sizes := []int{0, 1, 1000, 300_000, o.size}
	var wg sync.WaitGroup
	errs := make(chan error, o.streams)
	total := 0
	for i := 0; i < o.streams; i++ {
		data := payload(i, sizes[i%len(sizes)])
		total += len(data)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := echoOnce(session, data); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return result{"streams": o.streams, "bytes": total, "open": !session.IsClosed()}, nil
}

// gopluginLayout: the streams go-plugin opens (control, stdout, stderr: no data) and a broker stream
// whose 4-byte little-endian id must be echoed.
func gopluginLayout(session *yamux.Session, o options) (result, error) {
	var ids []uint32
	for i := 0; i < 3; i++ {
		s, err := session.OpenStream()
		if err != nil {
			return nil, err
		}
		ids = append(ids, s.StreamID())
	}
	broker, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := broker.Write([]byte{1, 0, 0, 0}); err != nil {
		return nil, err
	}
	ack := make([]byte, 4)
	if _, err := io.ReadFull(broker, ack); err != nil {
		return nil, fmt.Errorf("broker ack: %w", err)
	}
	return result{"ids": append(ids, broker.StreamID()), "ack": hex.EncodeToString(ack)}, nil
}

// idle: go-plugin's idle streams plus an idle period longer than StreamOpenTimeout with fast keepalives;
// the session must still be usable afterwards.
func idle(session *yamux.Session, o options) (result, error) {
	for i := 0; i < 3; i++ {
		if _, err := session.OpenStream(); err != nil {
			return nil, err
		}
	}
	time.Sleep(o.idle)
	if session.IsClosed() {
		return nil, errors.New("session closed during the idle period")
	}
	if err := echoOnce(session, payload(1, 1000)); err != nil {
		return nil, err
	}
	return result{"open": !session.IsClosed(), "streams": session.NumStreams()}, nil
}

// ping: explicit pings from Go, then stay up (keepalives running) until the server closes the session,
// so the server can ping us too.
func ping(session *yamux.Session, o options) (result, error) {
	for i := 0; i < 5; i++ {
		if _, err := session.Ping(); err != nil {
			return nil, fmt.Errorf("ping %d: %w", i, err)
		}
	}
	if _, err := session.OpenStream(); err != nil { // tells the server we are done pinging
		return nil, err
	}
	return result{"pings": 5, "shutdown": waitShutdown(session)}, nil
}

// digest: a large upload, half-close, then the server's answer (its digest of what it read) after our FIN.
func digest(session *yamux.Session, o options) (result, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	data := payload(3, o.size)
	if _, err := stream.Write(data); err != nil {
		return nil, err
	}
	if err := stream.Close(); err != nil {
		return nil, err
	}
	answer, err := io.ReadAll(stream)
	if err != nil {
		return nil, fmt.Errorf("reading the answer after our FIN: %w", err)
	}
	want := fmt.Sprintf("%d %s", len(data), digestOf(data))
	if string(answer) != want {
		return nil, fmt.Errorf("answer %q, want %q", answer, want)
	}
	return result{"answer": string(answer)}, nil
}

// serverReset: the server resets our stream; our reads fail with yamux's connection reset and the
// session stays usable.
func serverReset(session *yamux.Session, o options) (result, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := stream.Write([]byte("reset me")); err != nil {
		return nil, err
	}
	_, err = io.ReadAll(stream)
	if !errors.Is(err, yamux.ErrConnectionReset) {
		return nil, fmt.Errorf("read after server RST: %v, want %v", err, yamux.ErrConnectionReset)
	}
	if err := echoOnce(session, payload(2, 5000)); err != nil {
		return nil, fmt.Errorf("session after reset: %w", err)
	}
	return result{"readError": err.Error(), "open": !session.IsClosed()}, nil
}

// clientReset: we half-close and the server never answers with FIN, so yamux resets the stream after
// StreamCloseTimeout (the only way a Go yamux client sends RST). Then we wait for the server to close.
func clientReset(session *yamux.Session, o options) (result, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := stream.Write([]byte("never answered")); err != nil {
		return nil, err
	}
	if err := stream.Close(); err != nil {
		return nil, err
	}
	return result{"shutdown": waitShutdown(session)}, nil
}

// serverClose: the server ends the session while our stream is open; report how Go saw it.
func serverClose(session *yamux.Session, o options) (result, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	// The server closes the session as soon as this arrives, so Write may itself report the shutdown
	// (yamux races the send confirmation against the shutdown signal): not an error here.
	_, _ = stream.Write([]byte("close the session"))
	_, readErr := io.ReadAll(stream)
	shutdown := waitShutdown(session)
	_, openErr := session.OpenStream()
	return result{"shutdown": shutdown, "readErr": errString(readErr), "openErr": errString(openErr)}, nil
}

// clientClose: use a stream, then close the session from our side (go-plugin does this without GoAway).
func clientClose(session *yamux.Session, o options) (result, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := stream.Write([]byte("bye")); err != nil {
		return nil, err
	}
	buf := make([]byte, 3)
	if _, err := io.ReadFull(stream, buf); err != nil {
		return nil, err
	}
	return result{"closed": session.Close() == nil}, nil
}

// serverOpen: after we open a stream, the server opens one towards us (even id) and sends a greeting.
func serverOpen(session *yamux.Session, o options) (result, error) {
	if _, err := session.OpenStream(); err != nil {
		return nil, err
	}
	stream, err := session.AcceptStream()
	if err != nil {
		return nil, err
	}
	got, err := io.ReadAll(stream)
	if err != nil {
		return nil, err
	}
	if _, err := stream.Write([]byte("ack:" + string(got))); err != nil {
		return nil, err
	}
	if err := stream.Close(); err != nil {
		return nil, err
	}
	return result{"id": stream.StreamID(), "got": string(got), "shutdown": waitShutdown(session)}, nil
}

// serverBlocked: the server writes a large reply on stream A while we do not read it; once the server
// has seen its send window reach 0 it says "go" on stream B, and only then do we read A.
func serverBlocked(session *yamux.Session, o options) (result, error) {
	a, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := a.Write([]byte("A")); err != nil {
		return nil, err
	}
	b, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	if _, err := b.Write([]byte("B")); err != nil {
		return nil, err
	}
	signal := make([]byte, 2)
	if _, err := io.ReadFull(b, signal); err != nil || string(signal) != "go" {
		return nil, fmt.Errorf("waiting for go on stream B: %q %v", signal, err)
	}
	got, err := io.ReadAll(a)
	if err != nil {
		return nil, err
	}
	if want := payload(9, o.size); !bytes.Equal(got, want) {
		return nil, fmt.Errorf("stream A: got %d bytes, want the %d-byte pattern", len(got), len(want))
	}
	return result{"bytes": len(got)}, nil
}

// roundTrips: small request/reply exchanges on one stream, the shape of net/rpc traffic; reports the
// mean round-trip time so a stalled small write (Nagle, a missing flush) shows up as milliseconds.
func roundTrips(session *yamux.Session, o options) (result, error) {
	stream, err := session.OpenStream()
	if err != nil {
		return nil, err
	}
	request := payload(5, 200)
	reply := make([]byte, len(request))
	start := time.Now()
	for i := 0; i < o.rounds; i++ {
		if _, err := stream.Write(request); err != nil {
			return nil, err
		}
		if _, err := io.ReadFull(stream, reply); err != nil {
			return nil, fmt.Errorf("round %d: %w", i, err)
		}
		if !bytes.Equal(reply, request) {
			return nil, fmt.Errorf("round %d: wrong echo", i)
		}
	}
	mean := time.Since(start) / time.Duration(o.rounds)
	return result{"rounds": o.rounds, "meanMicros": mean.Microseconds()}, nil
}

func waitShutdown(session *yamux.Session) string {
	_, err := session.AcceptStream()
	return errString(err)
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimSpace(err.Error())
}
