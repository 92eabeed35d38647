package conformance

// The Argo Rollouts controller's side of the plugin protocol, run for real: go-plugin's client execs the
// handshake binary exactly as rollout/trafficrouting/plugin/client does, and Argo's own RPC client type
// (rpc.TrafficRouterPluginRPC) drives the TypeScript sidecar, which writes to a fake Kubernetes API.

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
)

const (
	actionKey  = "alb.ingress.kubernetes.io/actions.web-stable"
	managedKey = "alb.rollouts.argoproj-labs.io/managed-annotations"
)

type env struct {
	kube    *fakeKube
	sidecar *sidecar
}

func newEnv(t *testing.T, ingresses ...string) *env {
	return newEnvArgs(t, nil, ingresses...)
}

func newEnvArgs(t *testing.T, sidecarArgs []string, ingresses ...string) *env {
	kube := newFakeKube(t)
	doc := readFixture(t, "ingress.yaml")
	kube.putIngressYAML(t, doc, nil)
	for _, name := range ingresses {
		kube.putIngressYAML(t, doc, withName("shop", name))
	}
	return &env{kube: kube, sidecar: startSidecar(t, freeLoopbackAddr(t), kube.writeKubeconfig(t), sidecarArgs...)}
}

// checkUntouched asserts the annotations we do not own survived.
func (e *env) checkUntouched(t *testing.T, name string) {
	t.Helper()
	a := e.kube.annotations(t, "shop", name)
	if a["kubernetes.io/description"] != "not ours, must survive every patch" || a["alb.ingress.kubernetes.io/scheme"] != "internet-facing" {
		t.Errorf("annotations we do not own were changed on %s: %v", name, a)
	}
}

func TestEveryMethod(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pc := mustPluginClient(t, e.sidecar.addr)
	p := pc.plugin

	t.Run("Type", func(t *testing.T) {
		if got := p.Type(); got != "ALBPlugin" {
			t.Fatalf("Type() = %q, want ALB", got)
		}
	})

	t.Run("Ping", func(t *testing.T) {
		if err := pc.rpc.Ping(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("SetWeight writes Argo's action JSON", func(t *testing.T) {
		ro := loadRollout(t, nil)
		if e := p.SetWeight(ro, 30, nil); e.HasError() {
			t.Fatalf("SetWeight: %s", e.Error())
		}
		a := e.kube.annotations(t, "shop", "web-ingress")
		// Names, namespace, services and port all come out of the gob-decoded Rollout and its plugin JSON.
		want := actionJSON("80", "web-canary", 30, "web-stable", 70)
		if a[actionKey] != want {
			t.Fatalf("action annotation:\n got %s\nwant %s", a[actionKey], want)
		}
		var managed map[string][]string
		if err := json.Unmarshal([]byte(a[managedKey]), &managed); err != nil || !contains(managed["web"], actionKey) {
			t.Fatalf("managed annotation %q does not list %s for rollout web (%v)", a[managedKey], actionKey, err)
		}
		patches := e.kube.requests("PATCH", "/namespaces/shop/ingresses/web-ingress")
		if len(patches) == 0 {
			t.Fatal("no PATCH reached the API server")
		}
		last := patches[len(patches)-1]
		if !strings.Contains(last.ContentType, "patch") || !strings.Contains(string(last.Body), jsonEscaped(want)) {
			t.Fatalf("PATCH %s body does not carry the action: %s", last.ContentType, last.Body)
		}
		e.checkUntouched(t, "web-ingress")
	})

	t.Run("SetWeight with experiment destinations", func(t *testing.T) {
		ro := loadRollout(t, nil)
		extra := []v1alpha1.WeightDestination{{ServiceName: "web-exp-a", Weight: 5, PodTemplateHash: "aaa111"}, {ServiceName: "web-exp-b", Weight: 10}}
		if e := p.SetWeight(ro, 20, extra); e.HasError() {
			t.Fatalf("SetWeight: %s", e.Error())
		}
		want := actionJSON("80", "web-canary", 20, "web-exp-a", 5, "web-exp-b", 10, "web-stable", 65)
		if got := e.kube.annotations(t, "shop", "web-ingress")[actionKey]; got != want {
			t.Fatalf("action annotation:\n got %s\nwant %s", got, want)
		}
	})

	t.Run("SetWeight 0 (omitted by gob) sends all traffic to stable", func(t *testing.T) {
		if e := p.SetWeight(loadRollout(t, nil), 0, nil); e.HasError() {
			t.Fatalf("SetWeight: %s", e.Error())
		}
		want := actionJSON("80", "web-canary", 0, "web-stable", 100)
		if got := e.kube.annotations(t, "shop", "web-ingress")[actionKey]; got != want {
			t.Fatalf("action annotation:\n got %s\nwant %s", got, want)
		}
	})

	t.Run("UpdateHash", func(t *testing.T) {
		before := len(e.kube.requests("PATCH", ""))
		if e := p.UpdateHash(loadRollout(t, nil), "6b7d9c8f5", "5c4b8d7f9", nil); e.HasError() {
			t.Fatalf("UpdateHash: %s", e.Error())
		}
		if after := len(e.kube.requests("PATCH", "")); after != before {
			t.Fatalf("UpdateHash patched %d times; the ALB router has nothing to do for it", after-before)
		}
	})

	t.Run("VerifyWeight without a verifier answers NotImplemented", func(t *testing.T) {
		verified, e := p.VerifyWeight(loadRollout(t, nil), 30, nil)
		if e.HasError() || verified != types.NotImplemented {
			t.Fatalf("VerifyWeight = %v, %q; want NotImplemented and no error", verified, e.Error())
		}
	})

	t.Run("SetHeaderRoute", func(t *testing.T) {
		route := &v1alpha1.SetHeaderRoute{
			Name: "header-route",
			Match: []v1alpha1.HeaderRoutingMatch{
				{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Exact: "yes"}},
				{HeaderName: "User-Agent", HeaderValue: &v1alpha1.StringMatch{Exact: "Mozilla*"}},
			},
		}
		if e := p.SetHeaderRoute(loadRollout(t, nil), route); e.HasError() {
			t.Fatalf("SetHeaderRoute: %s", e.Error())
		}
		a := e.kube.annotations(t, "shop", "web-ingress")
		wantCond := `[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"X-Canary","values":["yes"]}},` +
			`{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"User-Agent","values":["Mozilla*"]}}]`
		if got := a["alb.ingress.kubernetes.io/conditions.header-route"]; got != wantCond {
			t.Fatalf("conditions annotation:\n got %s\nwant %s", got, wantCond)
		}
		if got, want := a["alb.ingress.kubernetes.io/actions.header-route"], actionJSON("80", "web-canary", 100); got != want {
			t.Fatalf("header action:\n got %s\nwant %s", got, want)
		}
		e.checkUntouched(t, "web-ingress")
	})

	t.Run("SetMirrorRoute is refused with a reason", func(t *testing.T) {
		pct := int32(20)
		e := p.SetMirrorRoute(loadRollout(t, nil), &v1alpha1.SetMirrorRoute{
			Name:       "mirror",
			Percentage: &pct,
			Match:      []v1alpha1.RouteMatch{{Method: &v1alpha1.StringMatch{Exact: "GET"}, Headers: map[string]v1alpha1.StringMatch{"X-A": {Prefix: "b"}}}},
		})
		if !e.HasError() || !strings.Contains(strings.ToLower(e.Error()), "mirror") {
			t.Fatalf("SetMirrorRoute error = %q, want a message about mirroring", e.Error())
		}
	})

	t.Run("RemoveManagedRoutes", func(t *testing.T) {
		if e := p.RemoveManagedRoutes(loadRollout(t, nil)); e.HasError() {
			t.Fatalf("RemoveManagedRoutes: %s", e.Error())
		}
		a := e.kube.annotations(t, "shop", "web-ingress")
		if _, ok := a["alb.ingress.kubernetes.io/conditions.header-route"]; ok {
			t.Fatalf("header route condition still present: %v", a)
		}
		e.checkUntouched(t, "web-ingress")
	})

	t.Run("bad plugin config reaches Argo as an error naming the field", func(t *testing.T) {
		ro := loadRollout(t, func(r *v1alpha1.Rollout) { setPluginConfig(r, `{"ingress":"web-ingress","servicePort":"eighty"}`) })
		e := p.SetWeight(ro, 10, nil)
		if !e.HasError() || !strings.Contains(e.Error(), "servicePort") {
			t.Fatalf("SetWeight error = %q, want one naming servicePort", e.Error())
		}
	})

	t.Run("a missing Ingress is an error naming it", func(t *testing.T) {
		ro := loadRollout(t, func(r *v1alpha1.Rollout) { setPluginConfig(r, `{"ingress":"no-such-ingress","servicePort":80}`) })
		e := p.SetWeight(ro, 10, nil)
		if !e.HasError() || !strings.Contains(e.Error(), "no-such-ingress") {
			t.Fatalf("SetWeight error = %q, want one naming the Ingress", e.Error())
		}
	})

	t.Run("the session still works after errors", func(t *testing.T) {
		if err := pc.rpc.Ping(); err != nil {
			t.Fatal(err)
		}
		if got := p.Type(); got != "ALBPlugin" {
			t.Fatalf("Type() = %q", got)
		}
	})
}

func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	const n = 25
	var names []string
	for i := 0; i < n; i++ {
		names = append(names, fmt.Sprintf("web-ingress-%d", i))
	}
	e := newEnv(t, names...)
	pc := mustPluginClient(t, e.sidecar.addr)

	var wg sync.WaitGroup
	errs := make(chan string, 2*n)
	for i := 0; i < n; i++ {
		wg.Add(2)
		go func(i int) {
			defer wg.Done()
			ro := loadRollout(t, func(r *v1alpha1.Rollout) {
				r.Name = fmt.Sprintf("web-%d", i)
				setPluginConfig(r, fmt.Sprintf(`{"ingress":"web-ingress-%d","servicePort":%d}`, i, 8000+i))
			})
			if e := pc.plugin.SetWeight(ro, int32(i+1), nil); e.HasError() {
				errs <- fmt.Sprintf("SetWeight %d: %s", i, e.Error())
			}
		}(i)
		go func() {
			defer wg.Done()
			if err := pc.rpc.Ping(); err != nil {
				errs <- "Ping: " + err.Error()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	// Every call was decoded with its own arguments: each Ingress got its own weight and port.
	for i := 0; i < n; i++ {
		want := actionJSON(fmt.Sprint(8000+i), "web-canary", i+1, "web-stable", 100-(i+1))
		if got := e.kube.annotations(t, "shop", names[i])[actionKey]; got != want {
			t.Errorf("%s:\n got %s\nwant %s", names[i], got, want)
		}
	}
}

// A call stuck on a slow Kubernetes API answers with an ErrorString at the sidecar's deadline instead of
// hanging the controller worker, and Control.Ping is answered meanwhile.
func TestSlowCallRunsIntoTheDeadline(t *testing.T) {
	t.Parallel()
	e := newEnvArgs(t, []string{"--rpc-timeout-seconds=5"}, "slow-ingress")
	release := e.kube.stallIngress(t, "slow-ingress")
	pc := mustPluginClient(t, e.sidecar.addr)

	result := make(chan types.RpcError, 1)
	go func() {
		ro := loadRollout(t, func(r *v1alpha1.Rollout) { setPluginConfig(r, `{"ingress":"slow-ingress","servicePort":80}`) })
		result <- pc.plugin.SetWeight(ro, 10, nil)
	}()
	waitFor(t, 10*time.Second, "the SetWeight to reach the API server", func() bool {
		return len(e.kube.requests("GET", "/ingresses/slow-ingress")) > 0
	})
	for i := 0; i < 3; i++ {
		if err := pc.rpc.Ping(); err != nil {
			t.Fatalf("Ping while SetWeight is stuck: %v", err)
		}
		select {
		case r := <-result:
			t.Fatalf("SetWeight returned while the API server was still stalled: %q", r.Error())
		default:
		}
	}
	r := <-result
	// The Kubernetes request's own budget ends inside the RPC deadline (router.ts CallContext), so the answer
	// names what stalled; the RPC deadline's message is the fallback for work with no budget of its own.
	deadline := strings.Contains(r.Error(), "Plugin.SetWeight did not finish within 5s") && strings.Contains(r.Error(), "--rpc-timeout-seconds")
	stalled := strings.Contains(r.Error(), "slow-ingress") && strings.Contains(r.Error(), "no answer from the Kubernetes API within")
	if !r.HasError() || !(deadline || stalled) {
		t.Fatalf("SetWeight error = %q, want the Kubernetes budget's or the deadline's message", r.Error())
	}
	release()
	// The session is still usable after the abandoned call.
	if got := pc.plugin.Type(); got != "ALBPlugin" {
		t.Fatalf("Type() after the timeout = %q", got)
	}
}

func TestBadSettingsExitWithOneLine(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("node", filepath.Join(repoRoot(t), "dist", "src", "main.js"), "--plugin-listen=no-port")
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit = %v, want status 1", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "--plugin-listen") {
		t.Fatalf("output %q, want one line naming --plugin-listen", out)
	}
}

func TestRequestOver3MiB(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pc := mustPluginClient(t, e.sidecar.addr)
	big := strings.Repeat("0123456789abcdef", 3*1024*1024/16+4096) // a bit over 3 MiB
	ro := loadRollout(t, func(r *v1alpha1.Rollout) { r.Annotations["example.com/large"] = big })
	if e := pc.plugin.SetWeight(ro, 40, nil); e.HasError() {
		t.Fatalf("SetWeight with a %d-byte Rollout: %s", len(big), e.Error())
	}
	if got, want := e.kube.annotations(t, "shop", "web-ingress")[actionKey], actionJSON("80", "web-canary", 40, "web-stable", 60); got != want {
		t.Fatalf("action annotation:\n got %s\nwant %s", got, want)
	}
	if err := pc.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
}

// yamux's StreamOpenTimeout is 75 s: a server that never ACKs the idle stdout/stderr streams loses the whole
// session at that point, so stay idle past it and check the session still answers. go-plugin gives the
// client yamux's default config, so the client's timeouts cannot be shortened here.
func TestIdleLongerThanStreamOpenTimeout(t *testing.T) {
	if testing.Short() {
		t.Skip("idles for 80 s")
	}
	t.Parallel()
	e := newEnv(t)
	pc := mustPluginClient(t, e.sidecar.addr)
	time.Sleep(80 * time.Second)
	if err := pc.rpc.Ping(); err != nil {
		t.Fatalf("Ping after 80 s idle: %v", err)
	}
	if got := pc.plugin.Type(); got != "ALBPlugin" {
		t.Fatalf("Type() after 80 s idle = %q", got)
	}
	if pc.client.Exited() {
		t.Fatal("the handshake child exited while idle")
	}
}

// go-plugin's Kill sends Control.Quit, waits up to 2 s for the child to exit, and only then SIGKILLs it
// and logs "plugin failed to exit gracefully". A clean exit status proves the child ended within 2 s.
func TestQuitEndsHandshakeProcess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pc := mustPluginClient(t, e.sidecar.addr)
	if err := pc.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
	pc.client.Kill()
	if !pc.client.Exited() {
		t.Fatal("handshake process still running after Kill")
	}
	st := pc.cmd.ProcessState
	if st == nil {
		t.Fatal("no exit status recorded for the handshake process")
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		t.Fatalf("handshake process was killed by %v instead of exiting after Control.Quit", ws.Signal())
	}
	if st.ExitCode() != 0 {
		t.Fatalf("handshake exit code %d, want 0", st.ExitCode())
	}
	// Either message means go-plugin gave up on a graceful exit: the second one when the sidecar dropped
	// the connection before go-plugin had closed its streams after Quit.
	for _, msg := range []string{"failed to exit gracefully", "error closing client during Kill"} {
		if strings.Contains(pc.log.String(), msg) {
			t.Fatalf("go-plugin logged %q", msg)
		}
	}
	waitFor(t, 10*time.Second, "the sidecar to log the Quit", func() bool {
		return e.sidecar.countLogs("Control.Quit: closing the plugin session") == 1
	})
}

func TestSigkillOfHandshakeClosesSidecarSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pc := mustPluginClient(t, e.sidecar.addr)
	if err := pc.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
	// The start-up probe of startSidecar was a session too.
	before := e.sidecar.countLogs("plugin session closed")
	if err := pc.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the sidecar to close the session of the killed child", func() bool {
		return e.sidecar.countLogs("plugin session closed") == before+1
	})
	if err := pc.rpc.Ping(); err == nil {
		t.Fatal("Ping succeeded through a killed child")
	}
}

// After a sidecar restart the old child's connection is gone: Argo's next Ping fails, it kills the client
// and starts a new child, which must work against the new sidecar.
func TestSidecarRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := mustPluginClient(t, e.sidecar.addr)
	if err := old.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
	e.sidecar.stop()
	restarted := startSidecar(t, e.sidecar.addr, e.kube.writeKubeconfig(t))
	if err := old.rpc.Ping(); err == nil {
		t.Fatal("Ping through the old session succeeded after the sidecar restarted")
	}
	waitFor(t, 10*time.Second, "the old child to exit", old.client.Exited)
	old.client.Kill()

	fresh := mustPluginClient(t, restarted.addr)
	if err := fresh.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
	if e := fresh.plugin.SetWeight(loadRollout(t, nil), 50, nil); e.HasError() {
		t.Fatalf("SetWeight through the new child: %s", e.Error())
	}
}

func TestCookieMismatch(t *testing.T) {
	t.Parallel()
	// No sidecar needed: the child must refuse before it looks for one. "step" is the cookie of Argo's step
	// plugins (rollout/steps/plugin/client), a kind the sidecar does not serve.
	pc, err := newPluginClient(t, freeLoopbackAddr(t), "step")
	if err == nil {
		t.Fatal("the plugin started with the wrong magic cookie")
	}
	waitFor(t, 10*time.Second, "the child's message in the client log", func() bool {
		return strings.Contains(pc.log.String(), "This binary is a plugin")
	})
	// go-plugin records the exit (after cmd.Wait) before it reports Exited.
	waitFor(t, 10*time.Second, "go-plugin to see the child exit", pc.client.Exited)
	if st := pc.cmd.ProcessState; st == nil || st.ExitCode() != 1 {
		t.Fatalf("handshake exit status %v, want exit code 1", st)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func jsonEscaped(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
