package conformance

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
)

// echoed is what testdata/echo-sidecar.mjs reports about one call.
type echoed struct {
	Op         string           `json:"op"`
	Weight     *int             `json:"weight"`
	CanaryHash string           `json:"canaryHash"`
	StableHash string           `json:"stableHash"`
	Dests      []map[string]any `json:"dests"`
	Route      map[string]any   `json:"route"`
	Rollout    map[string]any   `json:"rollout"`
}

func decodeEcho(t *testing.T, e types.RpcError) echoed {
	t.Helper()
	if !e.HasError() {
		t.Fatal("the echo router always answers with an ErrorString")
	}
	var out echoed
	if err := json.Unmarshal([]byte(e.Error()), &out); err != nil {
		t.Fatalf("echo %q: %v", e.Error(), err)
	}
	return out
}

// The Rollout fixture as the TypeScript side must see it after gob and the JSON conversion.
func wantRolloutDigest() map[string]any {
	return map[string]any{
		"name":                  "web",
		"namespace":             "shop",
		"uid":                   "5f0c1c2e-8a53-4a8e-9c4e-1b2f3a4d5e6f",
		"generation":            float64(7),
		"creationTimestamp":     "2024-01-02T03:04:05Z",
		"labels":                map[string]any{"app": "web", "team": "payments"},
		"note":                  "ünïcödé ✓ <b>&</b>",
		"largeAnnotationLength": float64(0),
		"managedFieldsTime":     "2024-01-02T03:04:05Z",
		"replicas":              float64(5),
		"maxSurge":              "25%",
		"canaryService":         "web-canary",
		"stableService":         "web-stable",
		"plugins":               map[string]any{"argoproj-labs/alb": map[string]any{"ingress": "web-ingress", "servicePort": float64(80)}},
		"managedRoutes":         []any{map[string]any{"name": "header-route"}},
		"steps":                 float64(5),
		"image":                 "registry.example.com/web:1.4.2",
		"args":                  []any{"--port=8080", "--log-format=json"},
		"containerPort":         float64(8080),
		"envFieldPath":          "status.podIP",
		"readinessPort":         "http",
		"livenessPort":          float64(8080),
		// resource.Quantity keeps its amount in unexported fields: gob cannot carry it (plugin-protocol.md §6.8).
		"cpuRequest":        nil,
		"volumeDefaultMode": float64(420),
		"phase":             "Progressing",
		"stableRS":          "5c4b8d7f9",
		"hpaReplicas":       float64(6),
		"canaryWeight":      float64(10),
		"conditionTimes":    []any{"2024-01-02T03:04:05Z", "2024-03-04T05:06:07Z"},
		"pauseStart":        "2024-03-04T05:06:09Z",
	}
}

func checkDigest(t *testing.T, got map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; !reflect.DeepEqual(g, w) {
			t.Errorf("rollout.%s: TypeScript decoded %#v, Go sent %#v", k, g, w)
		}
	}
}

func TestTypeScriptDecodesWhatArgoSends(t *testing.T) {
	t.Parallel()
	sc := startEchoSidecar(t)
	pc := mustPluginClient(t, sc.addr)
	p := pc.plugin
	dests := []v1alpha1.WeightDestination{{ServiceName: "web-exp-a", Weight: 5, PodTemplateHash: "aaa111"}, {ServiceName: "web-exp-b"}}
	wantDests := []map[string]any{{"serviceName": "web-exp-a", "weight": float64(5), "podTemplateHash": "aaa111"}, {"serviceName": "web-exp-b", "weight": float64(0)}}

	t.Run("Type: a non-ASCII reply string", func(t *testing.T) {
		if got := p.Type(); got != "écho ✓ 日本" {
			t.Fatalf("Type() = %q", got)
		}
	})

	t.Run("SetWeight", func(t *testing.T) {
		got := decodeEcho(t, p.SetWeight(loadRollout(t, nil), 30, dests))
		if got.Op != "SetWeight" || got.Weight == nil || *got.Weight != 30 || !reflect.DeepEqual(got.Dests, wantDests) {
			t.Fatalf("decoded %+v", got)
		}
		checkDigest(t, got.Rollout, wantRolloutDigest())
	})

	t.Run("SetWeight 0 and an empty Rollout", func(t *testing.T) {
		got := decodeEcho(t, p.SetWeight(&v1alpha1.Rollout{}, 0, nil))
		if got.Weight == nil || *got.Weight != 0 || len(got.Dests) != 0 || got.Rollout["name"] != "" {
			t.Fatalf("decoded %+v", got)
		}
	})

	t.Run("UpdateHash", func(t *testing.T) {
		got := decodeEcho(t, p.UpdateHash(loadRollout(t, nil), "6b7d9c8f5", "5c4b8d7f9", dests))
		if got.Op != "UpdateHash" || got.CanaryHash != "6b7d9c8f5" || got.StableHash != "5c4b8d7f9" || !reflect.DeepEqual(got.Dests, wantDests) {
			t.Fatalf("decoded %+v", got)
		}
		checkDigest(t, got.Rollout, wantRolloutDigest())
	})

	t.Run("VerifyWeight: Verified together with a non-empty Err", func(t *testing.T) {
		verified, e := p.VerifyWeight(loadRollout(t, nil), 45, nil)
		if verified != types.Verified {
			t.Fatalf("Verified = %v", verified)
		}
		got := decodeEcho(t, e)
		if got.Op != "VerifyWeight" || *got.Weight != 45 {
			t.Fatalf("decoded %+v", got)
		}
	})

	t.Run("SetHeaderRoute", func(t *testing.T) {
		route := &v1alpha1.SetHeaderRoute{Name: "header-route", Match: []v1alpha1.HeaderRoutingMatch{
			{HeaderName: "X-Canary", HeaderValue: &v1alpha1.StringMatch{Exact: "yes"}},
			{HeaderName: "X-Prefix", HeaderValue: &v1alpha1.StringMatch{Prefix: "pre"}},
		}}
		got := decodeEcho(t, p.SetHeaderRoute(loadRollout(t, nil), route))
		want := map[string]any{"name": "header-route", "match": []any{
			map[string]any{"headerName": "X-Canary", "headerValue": map[string]any{"exact": "yes"}},
			map[string]any{"headerName": "X-Prefix", "headerValue": map[string]any{"prefix": "pre"}},
		}}
		if got.Op != "SetHeaderRoute" || !reflect.DeepEqual(got.Route, want) {
			t.Fatalf("route decoded as %#v, want %#v", got.Route, want)
		}
	})

	t.Run("SetMirrorRoute", func(t *testing.T) {
		pct := int32(35)
		route := &v1alpha1.SetMirrorRoute{Name: "mirror", Percentage: &pct, Match: []v1alpha1.RouteMatch{{
			Method:  &v1alpha1.StringMatch{Exact: "GET"},
			Path:    &v1alpha1.StringMatch{Regex: "/api/.*"},
			Headers: map[string]v1alpha1.StringMatch{"X-A": {Prefix: "b"}},
		}}}
		got := decodeEcho(t, p.SetMirrorRoute(loadRollout(t, nil), route))
		want := map[string]any{"name": "mirror", "percentage": float64(35), "match": []any{map[string]any{
			"method": map[string]any{"exact": "GET"}, "path": map[string]any{"regex": "/api/.*"},
			"headers": map[string]any{"X-A": map[string]any{"prefix": "b"}},
		}}}
		if !reflect.DeepEqual(got.Route, want) {
			t.Fatalf("route decoded as %#v, want %#v", got.Route, want)
		}
	})

	t.Run("RemoveManagedRoutes with a Rollout over 3 MiB", func(t *testing.T) {
		big := strings.Repeat("x", 3*1024*1024+17)
		got := decodeEcho(t, p.RemoveManagedRoutes(loadRollout(t, func(r *v1alpha1.Rollout) { r.Annotations["example.com/large"] = big })))
		want := wantRolloutDigest()
		want["largeAnnotationLength"] = float64(len(big))
		checkDigest(t, got.Rollout, want)
	})
}
