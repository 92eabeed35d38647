package conformance

import (
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

// Round trips through go-plugin's client, the handshake proxy, yamux, net/rpc and gob in the sidecar.
// Run: go test -run '^$' -bench . ./... (after npm run build).

func BenchmarkPing(b *testing.B) {
	sc := startEchoSidecar(b)
	pc := mustPluginClient(b, sc.addr)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := pc.rpc.Ping(); err != nil {
			b.Fatal(err)
		}
	}
}

// The full fixture Rollout (pod template, status) per call, decoded and converted to JSON by the sidecar.
func BenchmarkSetWeightFullRollout(b *testing.B) {
	sc := startEchoSidecar(b)
	pc := mustPluginClient(b, sc.addr)
	ro := loadRollout(b, nil)
	dests := []v1alpha1.WeightDestination{{ServiceName: "web-exp-a", Weight: 5}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if e := pc.plugin.SetWeight(ro, 30, dests); !e.HasError() {
			b.Fatal("the echo router answers with an ErrorString")
		}
	}
}
