package conformance

// The metric-provider plugin, driven as the controller's analysis code drives it: go-plugin's client execs
// the handshake binary with Argo's metricprovider cookie and dispenses RpcMetricProviderPlugin exactly as
// metricproviders/plugin/client/client.go does, and Argo's own RPC client (rpc.MetricsPluginRPC) calls every
// method against the sidecar, on the same listener the traffic router is served on.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	metricrpc "github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// metricPluginClient is what Argo's analysis controller holds per metric plugin.
type metricPluginClient struct {
	client *goplugin.Client
	rpc    goplugin.ClientProtocol
	plugin metricrpc.MetricProviderPlugin
	log    *syncBuffer
}

// mustMetricPluginClient mirrors metricproviders/plugin/client/client.go: its handshake config (cookie
// metricprovider) and plugin map, exec of the configured binary with the ConfigMap's args, Dispense, then
// InitPlugin and Ping as startPluginSystem does.
func mustMetricPluginClient(t testing.TB, sidecarAddr string) *metricPluginClient {
	t.Helper()
	logs := &syncBuffer{}
	c := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
			MagicCookieValue: "metricprovider",
		},
		Plugins: map[string]goplugin.Plugin{"RpcMetricProviderPlugin": &metricrpc.RpcMetricProviderPlugin{}},
		Cmd:     exec.Command(buildHandshake(t), "--sidecar="+sidecarAddr, "--plugin-name=argoproj-labs/alb-analysis"),
		Managed: true,
		Logger:  hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: logs, Level: hclog.Trace}),
	})
	t.Cleanup(func() {
		c.Kill()
		if t.Failed() {
			t.Logf("go-plugin metric client log:\n%s", logs.String())
		}
	})
	cp, err := c.Client()
	if err != nil {
		t.Fatalf("starting the metric plugin as Argo does: %v\n%s", err, logs.String())
	}
	raw, err := cp.Dispense("RpcMetricProviderPlugin")
	if err != nil {
		t.Fatalf("Dispense(RpcMetricProviderPlugin): %v", err)
	}
	p, ok := raw.(metricrpc.MetricProviderPlugin)
	if !ok {
		t.Fatalf("dispensed %T, not a MetricProviderPlugin", raw)
	}
	if e := p.InitPlugin(); e.HasError() {
		t.Fatalf("InitPlugin: %s", e.Error())
	}
	if err := cp.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	return &metricPluginClient{client: c, rpc: cp, plugin: p, log: logs}
}

func loadAnalysisRun(t testing.TB) *v1alpha1.AnalysisRun {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("testdata", "analysisrun.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var run v1alpha1.AnalysisRun
	if err := yaml.UnmarshalStrict(doc, &run); err != nil {
		t.Fatalf("analysisrun fixture: %v", err)
	}
	return &run
}

// asJSON is v as encoding/json renders it, read back as untyped JSON: what the Kubernetes JSON shape of a Go
// value is, to compare with what the TypeScript side decoded from gob.
func asJSON(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func unmarshalEcho(t testing.TB, text string, into any) {
	t.Helper()
	if err := json.Unmarshal([]byte(text), into); err != nil {
		t.Fatalf("echo %q: %v", text, err)
	}
}

func sameTime(got *metav1.Time, want time.Time) bool {
	return got != nil && got.Time.Equal(want)
}

func TestTypeScriptDecodesWhatArgosMetricClientSends(t *testing.T) {
	t.Parallel()
	sc := startEchoSidecar(t)
	mc := mustMetricPluginClient(t, sc.addr)
	p := mc.plugin
	run := loadAnalysisRun(t)
	metric := run.Spec.Metrics[0]

	t.Run("Type: a non-ASCII reply string", func(t *testing.T) {
		if got := p.Type(); got != "écho ✓ analyse" {
			t.Fatalf("Type() = %q", got)
		}
	})

	t.Run("Run: the AnalysisRun and Metric as TypeScript decoded them; the Measurement as Go decoded it", func(t *testing.T) {
		m := p.Run(run, metric)
		if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "0.002" || m.ResumeAt != nil {
			t.Fatalf("measurement %+v", m)
		}
		if !reflect.DeepEqual(m.Metadata, map[string]string{"ünï": "cödé ✓", "empty": ""}) {
			t.Errorf("metadata %#v", m.Metadata)
		}
		// Fractional seconds reach Go to the nanosecond; a zone offset is the same instant.
		if !sameTime(m.StartedAt, time.Date(2026, 3, 4, 5, 12, 0, 123456789, time.UTC)) || !sameTime(m.FinishedAt, time.Date(2026, 3, 4, 5, 12, 1, 0, time.UTC)) {
			t.Errorf("startedAt %v, finishedAt %v", m.StartedAt, m.FinishedAt)
		}
		var echo struct {
			Op     string         `json:"op"`
			Run    map[string]any `json:"run"`
			Metric any            `json:"metric"`
		}
		unmarshalEcho(t, m.Message, &echo)
		if echo.Op != "Run" {
			t.Fatalf("op %q", echo.Op)
		}
		// The metric, plugin configuration (json.RawMessage) included, exactly as encoding/json shows it.
		if want := asJSON(t, metric); !reflect.DeepEqual(echo.Metric, want) {
			t.Errorf("metric: TypeScript decoded %#v, Go sent %#v", echo.Metric, want)
		}
		results := run.Status.MetricResults[0]
		want := map[string]any{
			"name":              "checkout-7d9f8c6b5-17-2",
			"namespace":         "shop",
			"uid":               "0b6f3e9a-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
			"creationTimestamp": "2026-03-04T05:10:00Z",
			"labels":            asJSON(t, run.Labels),
			"note":              "ünïcødé ✓ 🚀",
			"ownerReferences":   asJSON(t, run.OwnerReferences),
			"args":              asJSON(t, run.Spec.Args),
			"metricNames":       []any{"alb-5xx-rate", "p99-latency", "sidecar-verified"},
			// int-or-string: a number stays a number, text stays text, absent is absent.
			"counts":         []any{float64(5), "3", nil},
			"oauth2":         asJSON(t, run.Spec.Metrics[2].Provider.Web.Authentication.OAuth2),
			"retention":      asJSON(t, run.Spec.MeasurementRetention),
			"phase":          "Running",
			"startedAt":      "2026-03-04T05:10:01Z",
			"measurements":   asJSON(t, results.Measurements),
			"resultMetadata": asJSON(t, results.Metadata),
		}
		for k, w := range want {
			if g := echo.Run[k]; !reflect.DeepEqual(g, w) {
				t.Errorf("analysisRun %s: TypeScript decoded %#v, Go sent %#v", k, g, w)
			}
		}
	})

	t.Run("Resume: the measurement in flight, handed back finished", func(t *testing.T) {
		inFlight := run.Status.MetricResults[0].Measurements[1]
		m := p.Resume(run, metric, inFlight)
		if m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.Value != "0.001" || !reflect.DeepEqual(m.Metadata, inFlight.Metadata) {
			t.Fatalf("measurement %+v", m)
		}
		if !sameTime(m.StartedAt, inFlight.StartedAt.Time) || !sameTime(m.ResumeAt, inFlight.ResumeAt.Time) || !sameTime(m.FinishedAt, time.Date(2026, 3, 4, 5, 12, 16, 0, time.UTC)) {
			t.Errorf("times %v %v %v", m.StartedAt, m.ResumeAt, m.FinishedAt)
		}
		var echo struct {
			Op          string `json:"op"`
			Run         string `json:"run"`
			Metric      string `json:"metric"`
			Measurement any    `json:"measurement"`
		}
		unmarshalEcho(t, m.Message, &echo)
		if echo.Op != "Resume" || echo.Run != run.Name || echo.Metric != metric.Name || !reflect.DeepEqual(echo.Measurement, asJSON(t, inFlight)) {
			t.Fatalf("TypeScript decoded %+v, Go sent %#v", echo, asJSON(t, inFlight))
		}
	})

	t.Run("Terminate: a provider that throws answers phase Error, keeping the measurement's start to the nanosecond", func(t *testing.T) {
		started := metav1.NewTime(time.Date(2026, 3, 4, 5, 11, 32, 987654321, time.UTC))
		inFlight := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, StartedAt: &started, Metadata: map[string]string{"queryId": "q-0003"}}
		before := time.Now()
		m := p.Terminate(run, metric, inFlight)
		if m.Phase != v1alpha1.AnalysisPhaseError || !reflect.DeepEqual(m.Metadata, inFlight.Metadata) || !sameTime(m.StartedAt, started.Time) {
			t.Fatalf("measurement %+v", m)
		}
		// Argo's client prefixes the provider's message; the sidecar set finishedAt, as MarkMeasurementError does.
		msg, ok := strings.CutPrefix(m.Message, "failed to terminate via plugin: ")
		if !ok {
			t.Fatalf("message %q", m.Message)
		}
		if m.FinishedAt == nil || m.FinishedAt.Time.Before(before.Truncate(time.Second)) || m.FinishedAt.Time.After(time.Now()) {
			t.Errorf("finishedAt %v, want the time of the call", m.FinishedAt)
		}
		var echo struct {
			Op          string         `json:"op"`
			Measurement map[string]any `json:"measurement"`
		}
		unmarshalEcho(t, msg, &echo)
		// What the provider saw: Kubernetes JSON, whole seconds.
		want := map[string]any{"phase": "Running", "startedAt": "2026-03-04T05:11:32Z", "metadata": map[string]any{"queryId": "q-0003"}}
		if echo.Op != "Terminate" || !reflect.DeepEqual(echo.Measurement, want) {
			t.Fatalf("TypeScript decoded %#v", echo)
		}
	})

	t.Run("GarbageCollect: the limit, and a failure as the RpcError", func(t *testing.T) {
		for _, limit := range []int{7, 0} {
			e := p.GarbageCollect(run, metric, limit)
			var echo struct {
				Op     string `json:"op"`
				Run    string `json:"run"`
				Metric string `json:"metric"`
				Limit  *int   `json:"limit"`
			}
			unmarshalEcho(t, e.Error(), &echo)
			if echo.Op != "GarbageCollect" || echo.Run != run.Name || echo.Metric != metric.Name || echo.Limit == nil || *echo.Limit != limit {
				t.Fatalf("limit %d: TypeScript decoded %+v", limit, echo)
			}
		}
	})

	t.Run("GetMetadata: the Metric alone; the map as Go decoded it", func(t *testing.T) {
		md := p.GetMetadata(metric)
		if md["op"] != "GetMetadata" || md["metric"] != metric.Name || len(md) != 3 {
			t.Fatalf("metadata %#v", md)
		}
		var plugin any
		unmarshalEcho(t, md["plugin"], &plugin)
		if want := asJSON(t, metric.Provider.Plugin); !reflect.DeepEqual(plugin, want) {
			t.Fatalf("plugin configuration: TypeScript decoded %#v, Go sent %#v", plugin, want)
		}
	})

	t.Run("the traffic router on the same listener, in the same run", func(t *testing.T) {
		pc := mustPluginClient(t, sc.addr)
		got := decodeEcho(t, pc.plugin.SetWeight(loadRollout(t, nil), 25, nil))
		if got.Op != "SetWeight" || got.Weight == nil || *got.Weight != 25 {
			t.Fatalf("decoded %+v", got)
		}
		// Each plugin kind keeps its own session and methods.
		if got := pc.plugin.Type(); got != "écho ✓ 日本" {
			t.Fatalf("traffic router Type() = %q", got)
		}
		if got := p.Type(); got != "écho ✓ analyse" {
			t.Fatalf("metric provider Type() = %q", got)
		}
		if err := mc.rpc.Ping(); err != nil {
			t.Fatal(err)
		}
	})
}

// The real sidecar (dist/src/main.js) as deploy/ runs it: both plugin kinds from one listener. The ALB
// analysis reads the metric's block first: the fixture's block predates the analysis fields, so Run answers a
// finished phase Error naming the field (nothing else is read); a measurement handed back in flight is closed
// (Resume: Error, Terminate: Successful); the traffic router still writes Ingresses.
func TestMetricProviderOnTheRealSidecar(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mc := mustMetricPluginClient(t, e.sidecar.addr)
	p := mc.plugin
	run := loadAnalysisRun(t)
	metric := run.Spec.Metrics[0]

	if got := p.Type(); got != "ALBAnalysisPlugin" {
		t.Errorf("Type() = %q", got)
	}
	m := p.Run(run, metric)
	want := `failed to run via plugin: spec.metrics[name="alb-5xx-rate"].provider.plugin["argoproj-labs/alb-analysis"].`
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(m.Message, want) || !strings.Contains(m.Message, ": unknown field; the fields are lookback, settleDelay, minRequests,") ||
		m.StartedAt == nil || m.FinishedAt == nil {
		t.Fatalf("Run answered %+v", m)
	}
	inFlight := run.Status.MetricResults[0].Measurements[1]
	if m := p.Resume(run, metric, inFlight); m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "not in flight here") || m.FinishedAt == nil {
		t.Errorf("Resume answered %+v", m)
	}
	if m := p.Terminate(run, metric, inFlight); m.Phase != v1alpha1.AnalysisPhaseSuccessful || m.FinishedAt == nil || !m.StartedAt.Equal(inFlight.StartedAt) {
		t.Errorf("Terminate answered %+v", m)
	}
	if e := p.GarbageCollect(run, metric, 10); e.HasError() {
		t.Errorf("GarbageCollect: %s", e.Error())
	}
	// The fixture's block cannot be read: no configuration to summarise.
	if md := p.GetMetadata(metric); md == nil || len(md) != 0 {
		t.Errorf("GetMetadata = %#v, want an empty map", md)
	}

	pc := mustPluginClient(t, e.sidecar.addr)
	if err := pc.plugin.SetWeight(loadRollout(t, nil), 30, nil); err.HasError() {
		t.Fatalf("SetWeight next to the metric provider: %s", err.Error())
	}
	if got, want := e.kube.annotations(t, "shop", "web-ingress")[actionKey], actionJSON("80", "web-canary", 30, "web-stable", 70); got != want {
		t.Fatalf("action annotation:\n got %s\nwant %s", got, want)
	}
	// Both children proxy to the one sidecar, each its own session.
	if err := mc.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
	if err := pc.rpc.Ping(); err != nil {
		t.Fatal(err)
	}
}
