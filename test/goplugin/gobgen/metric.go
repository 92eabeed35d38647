package main

// The metric-provider plugin (metricproviders/plugin/rpc/rpc.go): the calls as Argo's client writes them and
// the replies as a Go plugin writes them, from Go's own encoder, for the TypeScript decoder and encoder tests.
//
//	go run . metricgen        the vectors (test/goplugin/gob/fixtures/metric-vectors.json)
//	go run . metricjsonnames  the JSON name of every struct field reachable from the metric-provider arguments
//	go run . analysisrunjson  the AnalysisRun fixture as encoding/json renders it (Kubernetes JSON)

import (
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/argoproj/argo-rollouts/metricproviders/plugin/rpc"
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

func init() {
	// Argo's metric rpc package registers these names in its init; record them for describe().
	for name, v := range map[string]any{
		"RunArgs": rpc.RunArgs{}, "TerminateAndResumeArgs": rpc.TerminateAndResumeArgs{},
		"GarbageCollectArgs": rpc.GarbageCollectArgs{}, "GetMetadataArgs": rpc.GetMetadataArgs{},
	} {
		registeredNames[reflect.TypeOf(v)] = name
	}
}

// The conformance suite's fixture, so both suites send the same AnalysisRun (gobgen runs from its own directory).
const analysisRunFixture = "../../conformance/testdata/analysisrun.yaml"

func testAnalysisRun() v1alpha1.AnalysisRun {
	doc, err := os.ReadFile(filepath.FromSlash(analysisRunFixture))
	if err != nil {
		panic(err)
	}
	var run v1alpha1.AnalysisRun
	if err := yaml.UnmarshalStrict(doc, &run); err != nil {
		panic(err)
	}
	return run
}

func metricJSONNames() []FieldName {
	return jsonNamesOf(rpc.RunArgs{}, rpc.TerminateAndResumeArgs{}, rpc.GarbageCollectArgs{}, rpc.GetMetadataArgs{})
}

func metaTime(t time.Time) *metav1.Time {
	mt := metav1.NewTime(t)
	return &mt
}

// sampleMeasurement has every field set; times in UTC with nanoseconds (Argo's metav1.Now() carries them
// through gob, only JSON drops them).
func sampleMeasurement() v1alpha1.Measurement {
	return v1alpha1.Measurement{
		Phase:      v1alpha1.AnalysisPhaseSuccessful,
		Message:    "5xx rate 0.2 % ≤ 1 % ✓",
		StartedAt:  metaTime(time.Date(2026, 3, 4, 5, 11, 32, 123456789, time.UTC)),
		FinishedAt: metaTime(time.Date(2026, 3, 4, 5, 11, 33, 0, time.UTC)),
		Value:      "0.002",
		Metadata:   map[string]string{"requests": "1200"},
		ResumeAt:   metaTime(time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)),
	}
}

func metricVectors() []Vector {
	run := testAnalysisRun()
	plugin := run.Spec.Metrics[0]
	inFlight := run.Status.MetricResults[0].Measurements[1]
	var (
		nilArg    any
		runArgs   any = rpc.RunArgs{AnalysisRun: &run, Metric: plugin}
		resume    any = rpc.TerminateAndResumeArgs{AnalysisRun: &run, Metric: plugin, Measurement: inFlight}
		terminate any = rpc.TerminateAndResumeArgs{AnalysisRun: &run, Metric: plugin, Measurement: sampleMeasurement()}
		gc        any = rpc.GarbageCollectArgs{AnalysisRun: &run, Metric: plugin, Limit: 10}
		metadata  any = rpc.GetMetadataArgs{Metric: plugin}
		// What Argo's client sends when it has no AnalysisRun (a nil pointer is left out) and a metric with
		// nothing but its name.
		bare any = rpc.RunArgs{Metric: v1alpha1.Metric{Name: "bare"}}
	)
	req := func(method string, seq uint64) rpcRequest { return rpcRequest{ServiceMethod: method, Seq: seq} }
	return []Vector{
		// Labels, annotations, metadata and the plugin map have several entries: Go writes them in random order.
		stream("argo metric-provider plugin stream", false,
			req("Plugin.InitPlugin", 0), &nilArg,
			req("Plugin.Type", 1), &nilArg,
			req("Plugin.Run", 2), &runArgs,
			req("Plugin.Resume", 3), &resume,
			req("Plugin.Terminate", 4), &terminate,
			req("Plugin.GarbageCollect", 5), &gc,
			req("Plugin.GetMetadata", 6), &metadata,
		),
		stream("argo metric-provider Run without an AnalysisRun", true, req("Plugin.Run", 7), &bare),
		// As a Go plugin answers on its stream (headers left out: they do not change the bodies' types):
		// InitPlugin's RpcError first, then the replies of Run and GetMetadata. One map entry each, so the
		// bytes are deterministic.
		stream("argo metric-provider replies", true,
			types.RpcError{},
			sampleMeasurement(),
			v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning},
			v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseError, Message: "m", Metadata: map[string]string{}},
			map[string]string{"resolvedQuery": "targetErrorRate(checkout)"},
			map[string]string(nil),
		),
		stream("argo metric-provider metadata reply first on its stream", true, map[string]string{"k": "v"}),
	}
}

// decodedMeasurement is what Argo's client reads from a Measurement reply, times at full precision.
func decodedMeasurement(m v1alpha1.Measurement) map[string]any {
	t := func(mt *metav1.Time) any {
		if mt == nil {
			return nil
		}
		return mt.UTC().Format(time.RFC3339Nano)
	}
	return map[string]any{
		"phase": string(m.Phase), "message": m.Message, "value": m.Value, "metadata": m.Metadata,
		"metadataIsNil": m.Metadata == nil,
		"startedAt":     t(m.StartedAt), "finishedAt": t(m.FinishedAt), "resumeAt": t(m.ResumeAt),
	}
}
