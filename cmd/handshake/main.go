// Command handshake is the executable Argo Rollouts starts as the traffic-router plugin and as the
// metric-provider plugin. It holds no plugin logic: it checks go-plugin's magic cookie, waits until the TypeScript sidecar accepts connections, listens
// on its own loopback (or unix) address, prints the go-plugin handshake line and then copies bytes 1:1 between
// the controller's single connection and one connection to the sidecar. It exits when either side closes, so
// the child's lifetime is exactly the session's: SIGKILL of the child ends the sidecar session, and the
// sidecar closing the session (Control.Quit, or a session it no longer trusts) ends the child, which makes
// Argo start a fresh one.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The magic cookie Argo's plugin clients set: one key, one value per plugin kind. The sidecar serves the
// traffic router (rollout/trafficrouting/plugin/client/client.go) and the metric provider
// (metricproviders/plugin/client/client.go) on one listener and tells them apart by the name the client
// dispenses, so the child only has to accept both values. Step plugins ("step") are not served.
const (
	cookieKey            = "ARGO_ROLLOUTS_RPC_PLUGIN"
	trafficRouterCookie  = "trafficrouter"
	metricProviderCookie = "metricprovider"
)

// pluginKind is the plugin kind Argo started this child as, or "" when the cookie is not one we serve.
func pluginKind(cookie string) string {
	switch cookie {
	case trafficRouterCookie, metricProviderCookie:
		return cookie
	}
	return ""
}

// The text a go-plugin server prints when started without the cookie (server.go), kept so operators
// recognise it.
const notAPluginMessage = "This binary is a plugin. These are not meant to be executed directly.\n" +
	"Please execute the program that consumes these plugins, which will\n" +
	"load any plugins automatically\n"

type options struct {
	sidecar    string
	listen     string
	pluginName string
	wait       time.Duration
	accept     time.Duration
}

func parseOptions(args []string) (options, error) {
	fs := flag.NewFlagSet("handshake", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o options
	fs.StringVar(&o.sidecar, "sidecar", "127.0.0.1:3001", "sidecar plugin address: host:port or unix:/path (the sidecar's --plugin-listen)")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:0", "address the controller connects to: host:port or unix:/path")
	fs.StringVar(&o.pluginName, "plugin-name", "", "plugin name from the ConfigMap (only used in log lines)")
	// Argo gives up after 60 s (go-plugin StartTimeout); stop waiting a little earlier so our own
	// message reaches the controller log instead of its generic timeout.
	fs.DurationVar(&o.wait, "wait", 50*time.Second, "how long to wait for the sidecar to accept connections")
	fs.DurationVar(&o.accept, "accept-timeout", time.Minute, "how long to wait for the controller to connect after the handshake line")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

// splitAddress maps "unix:/path" to ("unix", "/path") and anything else to ("tcp", addr).
func splitAddress(addr string) (network, address string) {
	if rest, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", rest
	}
	return "tcp", addr
}

// handshakeLine is go-plugin's CORE|APP|NETWORK|ADDRESS|PROTOCOL line. No sixth field: go-plugin would parse
// one longer than 50 characters as a TLS certificate.
func handshakeLine(addr net.Addr) string {
	return fmt.Sprintf("1|1|%s|%s|netrpc\n", addr.Network(), addr.String())
}

func logf(level, format string, args ...any) {
	// go-plugin's client reads a "[LEVEL]" prefix on each stderr line as the log level.
	fmt.Fprintf(os.Stderr, "[%s] handshake: %s\n", level, fmt.Sprintf(format, args...))
}

// dialSidecar retries until the sidecar accepts or the deadline passes. The connection it returns is the one
// the controller's session will use, so the sidecar sees exactly one connection per child.
func dialSidecar(addr string, wait time.Duration) (net.Conn, error) {
	network, address := splitAddress(addr)
	deadline := time.Now().Add(wait)
	delay := 50 * time.Millisecond
	for {
		conn, err := net.DialTimeout(network, address, 2*time.Second)
		if err == nil {
			return conn, nil
		}
		if time.Now().Add(delay).After(deadline) {
			return nil, fmt.Errorf("sidecar at %s did not accept connections within %s: %w", addr, wait, err)
		}
		time.Sleep(delay)
		if delay < time.Second {
			delay *= 2
		}
	}
}

func listen(addr string) (net.Listener, func(), error) {
	network, address := splitAddress(addr)
	if network == "unix" {
		if address == "" {
			dir, err := os.MkdirTemp("", "alb-plugin")
			if err != nil {
				return nil, nil, err
			}
			address = filepath.Join(dir, "plugin.sock")
			l, err := net.Listen("unix", address)
			return l, func() { os.RemoveAll(dir) }, err
		}
		l, err := net.Listen("unix", address)
		return l, func() { os.Remove(address) }, err
	}
	l, err := net.Listen("tcp", address)
	return l, func() {}, err
}

// proxy copies both ways and returns when either side closes or fails.
func proxy(a, b net.Conn) {
	var once sync.Once
	done := make(chan struct{})
	closeBoth := func() {
		once.Do(func() {
			a.Close()
			b.Close()
			close(done)
		})
	}
	go func() { io.Copy(a, b); closeBoth() }()
	go func() { io.Copy(b, a); closeBoth() }()
	<-done
}

func run(args []string, stdout io.Writer) int {
	kind := pluginKind(os.Getenv(cookieKey))
	if kind == "" {
		fmt.Fprint(os.Stderr, notAPluginMessage)
		return 1
	}
	o, err := parseOptions(args)
	if err != nil {
		logf("ERROR", "bad arguments (check the ConfigMap args): %v", err)
		return 1
	}
	upstream, err := dialSidecar(o.sidecar, o.wait)
	if err != nil {
		logf("ERROR", "%v; is the sidecar container running with --plugin-listen=%s?", err, o.sidecar)
		return 1
	}
	l, cleanup, err := listen(o.listen)
	if err != nil {
		upstream.Close()
		logf("ERROR", "cannot listen on %s: %v", o.listen, err)
		return 1
	}
	defer cleanup()

	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- conn
	}()
	// If the sidecar closes before the controller connects, the proxy below ends at once and the child
	// exits; Argo then starts a new one.
	// Nothing else is ever written to stdout: go-plugin takes its first line as the handshake.
	fmt.Fprint(stdout, handshakeLine(l.Addr()))

	var downstream net.Conn
	select {
	case conn, ok := <-accepted:
		if !ok {
			logf("ERROR", "accept failed on %s", l.Addr())
			upstream.Close()
			return 1
		}
		downstream = conn
	case <-time.After(o.accept):
		logf("ERROR", "the controller did not connect within %s", o.accept)
		upstream.Close()
		return 1
	}
	l.Close()
	logf("DEBUG", "plugin %s (%s): proxying %s <-> %s", o.pluginName, kind, downstream.RemoteAddr(), o.sidecar)
	proxy(downstream, upstream)
	return 0
}

func main() {
	// Like a go-plugin server: a Ctrl-C meant for the host reaches its children too, and the host ends the
	// plugin itself (Control.Quit, then SIGKILL), so the interrupt is ignored.
	signal.Ignore(os.Interrupt)
	os.Exit(run(os.Args[1:], os.Stdout))
}
