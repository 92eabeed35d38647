package conformance

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"sigs.k8s.io/yaml"
)

// repoRoot is found from this file's location, so `go test` works from any working directory.
func repoRoot(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

var (
	handshakeOnce sync.Once
	handshakeBin  string
	handshakeErr  error
)

// buildHandshake compiles cmd/handshake once per test binary, the way scripts/build-go.sh does.
func buildHandshake(t testing.TB) string {
	handshakeOnce.Do(func() {
		dir, err := os.MkdirTemp("", "alb-handshake")
		if err != nil {
			handshakeErr = err
			return
		}
		handshakeBin = filepath.Join(dir, "handshake")
		cmd := exec.Command("go", "build", "-trimpath", "-o", handshakeBin, ".")
		cmd.Dir = filepath.Join(repoRoot(t), "cmd", "handshake")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			handshakeErr = fmt.Errorf("building cmd/handshake: %v\n%s", err, out)
		}
	})
	if handshakeErr != nil {
		t.Fatal(handshakeErr)
	}
	return handshakeBin
}

func freeLoopbackAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// sidecar is the real TypeScript sidecar (`node dist/src/main.js`), with its JSON log lines kept.
type sidecar struct {
	addr string
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs []map[string]any
	raw  bytes.Buffer
	done chan struct{}
}

func startSidecar(t testing.TB, addr, kubeconfig string, extraArgs ...string) *sidecar {
	main := filepath.Join(repoRoot(t), "dist", "src", "main.js")
	args := append([]string{main,
		"--plugin-listen=" + addr,
		"--http-listen=127.0.0.1:0",
		"--kubeconfig=" + kubeconfig,
		"--log-level=debug",
	}, extraArgs...)
	return startNode(t, addr, args)
}

// startEchoSidecar runs testdata/echo-sidecar.mjs: the real plugin server with a router that echoes what it
// decoded.
func startEchoSidecar(t testing.TB) *sidecar {
	addr := freeLoopbackAddr(t)
	script, err := filepath.Abs(filepath.Join("testdata", "echo-sidecar.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	return startNode(t, addr, []string{script, addr})
}

// startNode starts a Node program from the built tree and waits until it accepts connections on addr.
func startNode(t testing.TB, addr string, args []string) *sidecar {
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, "dist", "src", "main.js")); err != nil {
		t.Fatalf("dist/ is missing: run `npm run build` in %s first (scripts/test-all.sh does)", root)
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = root
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sidecar{addr: addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			line := sc.Bytes()
			var rec map[string]any
			s.mu.Lock()
			s.raw.Write(line)
			s.raw.WriteByte('\n')
			if json.Unmarshal(line, &rec) == nil {
				s.logs = append(s.logs, rec)
			}
			s.mu.Unlock()
		}
		cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("sidecar log:\n%s", s.rawLog())
		}
	})
	waitFor(t, 90*time.Second, "the sidecar to listen on "+addr, func() bool {
		select {
		case <-s.done:
			t.Fatalf("sidecar exited at start:\n%s", s.rawLog())
		default:
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
	return s
}

func (s *sidecar) rawLog() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.raw.String()
}

// countLogs counts log records with this message.
func (s *sidecar) countLogs(msg string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.logs {
		if r["msg"] == msg {
			n++
		}
	}
	return n
}

// stop sends SIGTERM (what Kubernetes sends) and waits for the process to end.
func (s *sidecar) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// waitFor polls cond until it holds; the limit only bounds a broken run, it is not what is tested.
func waitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer collects the go-plugin client's log output (which includes the child's stderr).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pluginClient is what Argo's controller holds per plugin: a go-plugin client that exec'd the handshake binary.
type pluginClient struct {
	client *goplugin.Client
	rpc    goplugin.ClientProtocol
	plugin rpc.TrafficRouterPlugin
	cmd    *exec.Cmd
	log    *syncBuffer
}

// newPluginClient mirrors rollout/trafficrouting/plugin/client/client.go: the same handshake config and
// plugin map, exec of the configured binary with the ConfigMap's args.
func newPluginClient(t testing.TB, sidecarAddr string, cookie string) (*pluginClient, error) {
	logs := &syncBuffer{}
	cmd := exec.Command(buildHandshake(t), "--sidecar="+sidecarAddr, "--plugin-name=argoproj-labs/alb")
	c := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
			MagicCookieValue: cookie,
		},
		Plugins: map[string]goplugin.Plugin{"RpcTrafficRouterPlugin": &rpc.RpcTrafficRouterPlugin{}},
		Cmd:     cmd,
		Managed: true,
		Logger:  hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: logs, Level: hclog.Trace}),
	})
	pc := &pluginClient{client: c, cmd: cmd, log: logs}
	t.Cleanup(func() {
		c.Kill()
		if t.Failed() {
			t.Logf("go-plugin client log:\n%s", logs.String())
		}
	})
	cp, err := c.Client()
	if err != nil {
		return pc, err
	}
	raw, err := cp.Dispense("RpcTrafficRouterPlugin")
	if err != nil {
		return pc, err
	}
	pc.rpc = cp
	pc.plugin = raw.(rpc.TrafficRouterPlugin)
	return pc, nil
}

func mustPluginClient(t testing.TB, sidecarAddr string) *pluginClient {
	t.Helper()
	pc, err := newPluginClient(t, sidecarAddr, "trafficrouter")
	if err != nil {
		t.Fatalf("starting the plugin as Argo does: %v\n%s", err, pc.log.String())
	}
	if e := pc.plugin.InitPlugin(); e.HasError() {
		t.Fatalf("InitPlugin: %s", e.Error())
	}
	return pc
}

func loadRollout(t testing.TB, mutate func(r *v1alpha1.Rollout)) *v1alpha1.Rollout {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("testdata", "rollout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var r v1alpha1.Rollout
	if err := yaml.UnmarshalStrict(doc, &r); err != nil {
		t.Fatalf("rollout fixture: %v", err)
	}
	if mutate != nil {
		mutate(&r)
	}
	return &r
}

func setPluginConfig(r *v1alpha1.Rollout, cfg string) {
	r.Spec.Strategy.Canary.TrafficRouting.Plugins["argoproj-labs/alb"] = json.RawMessage(cfg)
}

func readFixture(t testing.TB, name string) []byte {
	doc, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func withName(ns, name string) func(map[string]any) {
	return func(obj map[string]any) {
		meta := obj["metadata"].(map[string]any)
		meta["namespace"] = ns
		meta["name"] = name
	}
}

func actionJSON(port string, weights ...any) string {
	var tgs []string
	for i := 0; i < len(weights); i += 2 {
		tgs = append(tgs, fmt.Sprintf(`{"ServiceName":"%s","ServicePort":"%s","Weight":%d}`, weights[i], port, weights[i+1]))
	}
	return `{"Type":"forward","ForwardConfig":{"TargetGroups":[` + strings.Join(tgs, ",") + `]}}`
}
