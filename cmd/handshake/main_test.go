package main

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHandshakeLine(t *testing.T) {
	cases := []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40123}, "1|1|tcp|127.0.0.1:40123|netrpc\n"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 7}, "1|1|tcp|[::1]:7|netrpc\n"},
		{&net.UnixAddr{Name: "/tmp/alb/plugin.sock", Net: "unix"}, "1|1|unix|/tmp/alb/plugin.sock|netrpc\n"},
	}
	for _, c := range cases {
		got := handshakeLine(c.addr)
		if got != c.want {
			t.Errorf("handshakeLine(%v) = %q, want %q", c.addr, got, c.want)
		}
		// The rules go-plugin's client applies: one line, exactly five fields, core and app version 1,
		// protocol netrpc, and no sixth (certificate) field.
		fields := strings.Split(strings.TrimSpace(got), "|")
		if strings.Count(got, "\n") != 1 || len(fields) != 5 || fields[0] != "1" || fields[1] != "1" || fields[4] != "netrpc" {
			t.Errorf("handshakeLine(%v) = %q breaks go-plugin's format", c.addr, got)
		}
	}
}

func TestSplitAddress(t *testing.T) {
	cases := map[string][2]string{
		"127.0.0.1:3001":   {"tcp", "127.0.0.1:3001"},
		"unix:/tmp/x.sock": {"unix", "/tmp/x.sock"},
		"localhost:1":      {"tcp", "localhost:1"},
		"unix:":            {"unix", ""},
	}
	for in, want := range cases {
		n, a := splitAddress(in)
		if n != want[0] || a != want[1] {
			t.Errorf("splitAddress(%q) = %q %q, want %q %q", in, n, a, want[0], want[1])
		}
	}
}

func TestCookieMismatchExits1(t *testing.T) {
	// Argo's step plugins, no cookie at all, and near misses: refused before looking for the sidecar.
	for _, cookie := range []string{"step", "", "TrafficRouter", "metricprovider ", "trafficrouter,metricprovider"} {
		t.Run(cookie, func(t *testing.T) {
			t.Setenv(cookieKey, cookie)
			var out strings.Builder
			if code := run([]string{"--sidecar=127.0.0.1:1"}, &out); code != 1 {
				t.Fatalf("exit code %d, want 1", code)
			}
			if out.Len() != 0 {
				t.Fatalf("stdout must stay empty, got %q", out.String())
			}
		})
	}
}

func TestServesBothArgoPluginKinds(t *testing.T) {
	// The values Argo's traffic-router and metric-provider clients set; the same binary answers both.
	for _, cookie := range []string{"trafficrouter", "metricprovider"} {
		t.Run(cookie, func(t *testing.T) {
			t.Setenv(cookieKey, cookie)
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			sidecarClosed := startEcho(t, l)
			pr, pw := io.Pipe()
			exit := make(chan int, 1)
			go func() { exit <- run([]string{"--sidecar=" + l.Addr().String()}, pw) }()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Split(strings.TrimSpace(line), "|")
			conn, err := net.Dial(f[2], f[3])
			if err != nil {
				t.Fatalf("dial %q: %v", line, err)
			}
			msg := []byte(cookie)
			conn.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(conn, got); err != nil || string(got) != cookie {
				t.Fatalf("echo = %q, %v", got, err)
			}
			conn.Close()
			if code := <-exit; code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			<-sidecarClosed
		})
	}
}

func TestBadArgumentsExit1(t *testing.T) {
	t.Setenv(cookieKey, trafficRouterCookie)
	var out strings.Builder
	if code := run([]string{"--no-such-flag"}, &out); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
}

func TestSidecarNeverListensExits1(t *testing.T) {
	t.Setenv(cookieKey, trafficRouterCookie)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out strings.Builder
	if code := run([]string{"--sidecar=" + addr, "--wait=300ms"}, &out); code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Fatalf("no handshake line may be printed when the sidecar is down, got %q", out.String())
	}
}

// startEcho is a stand-in sidecar that echoes and records whether its connection closed.
func startEcho(t *testing.T, l net.Listener) <-chan struct{} {
	closed := make(chan struct{})
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		io.Copy(conn, conn)
		conn.Close()
		close(closed)
	}()
	return closed
}

func TestProxiesUntilControllerCloses(t *testing.T) {
	for _, listenArg := range []string{"127.0.0.1:0", "unix:" + filepath.Join(t.TempDir(), "p.sock"), "unix:"} {
		t.Run(listenArg, func(t *testing.T) {
			t.Setenv(cookieKey, trafficRouterCookie)
			// The sidecar starts listening only after the child is already waiting for it.
			probe, _ := net.Listen("tcp", "127.0.0.1:0")
			sidecarAddr := probe.Addr().String()
			probe.Close()

			pr, pw := io.Pipe()
			exit := make(chan int, 1)
			go func() { exit <- run([]string{"--sidecar=" + sidecarAddr, "--listen=" + listenArg}, pw) }()
			time.Sleep(200 * time.Millisecond)
			l, err := net.Listen("tcp", sidecarAddr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			sidecarClosed := startEcho(t, l)

			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Split(strings.TrimSpace(line), "|")
			conn, err := net.Dial(f[2], f[3])
			if err != nil {
				t.Fatalf("dial %q: %v", line, err)
			}
			msg := []byte("yamux bytes pass through unchanged")
			conn.Write(msg)
			got := make([]byte, len(msg))
			if _, err := io.ReadFull(conn, got); err != nil || string(got) != string(msg) {
				t.Fatalf("echo = %q, %v", got, err)
			}
			conn.Close()
			if code := <-exit; code != 0 {
				t.Fatalf("exit code %d, want 0", code)
			}
			<-sidecarClosed
		})
	}
}

func TestExitsWhenSidecarCloses(t *testing.T) {
	t.Setenv(cookieKey, trafficRouterCookie)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err == nil {
			// What the sidecar does after answering Control.Quit.
			conn.Close()
		}
	}()
	pr, pw := io.Pipe()
	exit := make(chan int, 1)
	go func() { exit <- run([]string{"--sidecar=" + l.Addr().String()}, pw) }()
	line, _ := bufio.NewReader(pr).ReadString('\n')
	f := strings.Split(strings.TrimSpace(line), "|")
	conn, err := net.Dial(f[2], f[3])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if code := <-exit; code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("controller connection still open after the sidecar closed")
	}
}
