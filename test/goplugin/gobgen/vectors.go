package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

//go:embed testdata/rollout.yaml
var rolloutYAML []byte

type Point struct{ X, Y int }

type Inner struct {
	Name  string
	Count uint16
}

type Everything struct {
	B      bool
	I      int64
	U      uint64
	F      float64
	F32    float32
	C      complex128
	S      string
	Bytes  []byte
	Ints   []int
	Arr    [3]int8
	M      map[string]int
	Empty  map[string]int
	NilMap map[string]int
	Nested Inner
	Ptr    *Inner
	NilPtr *Inner
	PInt   *int32
	Zero   *int32
	Any    any
	NilAny any
	When   time.Time
	Never  time.Time
	Opaque Opaque
	Bin    BinOnly
	Inline
	hidden int
	Ch     chan int
}

type Inline struct{ Embedded string }

// Opaque is a GobEncoder other than a time.
type Opaque struct{ v string }

func (o Opaque) GobEncode() ([]byte, error) { return []byte("op:" + o.v), nil }
func (o *Opaque) GobDecode(b []byte) error  { o.v = string(b[3:]); return nil }

// BinOnly has only MarshalBinary.
type BinOnly struct{ v byte }

func (b BinOnly) MarshalBinary() ([]byte, error)  { return []byte{0xbe, b.v}, nil }
func (b *BinOnly) UnmarshalBinary(d []byte) error { b.v = d[1]; return nil }

// Tree is recursive by value (through a slice) and Node through a pointer.
type Tree struct {
	Value    int
	Children []Tree
}

type Node struct {
	Label string
	Next  *Node
}

// Holder carries an interface whose concrete type itself holds an interface: on first use the inner
// type definitions appear in the middle of the outer value (decoder.go's "DelimitedValue" case).
type Holder struct {
	Tag     string
	Payload any
}

type Leaf struct {
	Words []string
	When  time.Time
}

type MapKeys struct {
	ByInt  map[int64]string
	ByBool map[bool][]string
	Nested map[string]map[string]Point
}

type SliceZeros struct {
	Ints    []int64
	Strings []string
	Points  []Point
	Bytes   [][]byte
	Maps    []map[string]int
	Times   []time.Time
}

func init() {
	register("main.Point", Point{})
	register("Holder", Holder{})
	register("Leaf", &Leaf{})
	register("Node", Node{})
	// Argo's rpc package registers its argument types in its init; record the names for describe().
	for name, v := range map[string]any{
		"UpdateHashArgs": rpc.UpdateHashArgs{}, "SetWeightAndVerifyWeightArgs": rpc.SetWeightAndVerifyWeightArgs{},
		"SetHeaderArgs": rpc.SetHeaderArgs{}, "SetMirrorArgs": rpc.SetMirrorArgs{}, "RemoveManagedRoutesArgs": rpc.RemoveManagedRoutesArgs{},
	} {
		registeredNames[reflect.TypeOf(v)] = name
	}
}

func generate() []Vector {
	i32 := int32(7)
	zero := int32(0)
	amsterdamLMT := time.FixedZone("LMT", 19*60+32) // version-2 time encoding (seconds in the offset)
	when := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	ev := Everything{
		B: true, I: -7, U: math.MaxUint64, F: -2.25, F32: 0.5, C: complex(1.5, -2),
		S: "héllo ✓ 🚀", Bytes: []byte{0, 1, 2, 0xff}, Ints: []int{0, 1, -1, 0}, Arr: [3]int8{0, -128, 127},
		M: map[string]int{"a": 1}, Empty: map[string]int{},
		Nested: Inner{Name: "n"}, Ptr: &Inner{Count: 65535}, PInt: &i32, Zero: &zero,
		Any: int64(-7), When: when, Opaque: Opaque{"x"}, Bin: BinOnly{7},
		Inline: Inline{Embedded: "e"}, hidden: 1,
	}
	var nilAny any
	var holder any = Holder{Tag: "outer", Payload: Leaf{Words: []string{"a", "", "b"}, When: when}}
	tree := Tree{Value: 1, Children: []Tree{{Value: 2}, {Value: 3, Children: []Tree{{}}}}}
	vectors := []Vector{
		stream("point (doc.go example)", true, Point{22, 33}),
		stream("singletons", true, true, false, int64(0), int64(1), int64(-1), int64(63), int64(64), int64(127), int64(128),
			int64(-129), int64(math.MaxInt64), int64(math.MinInt64), int64(1<<53-1), int64(1<<53), int64(-(1 << 53)),
			uint64(0), uint64(127), uint64(128), uint64(256), uint64(1<<53), uint64(math.MaxUint64), uint32(1),
			17.0, 0.5, -2.25, 1e300, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN(), float32(3.25),
			complex(1, 2), "", "x", "tsplugin", "héllo ✓ 🚀", []byte{}, []byte("raw"), new(any)),
		stream("struct with every kind", true, ev),
		stream("same struct twice (definitions only once)", true, Point{1, 2}, Point{}, Point{-3, 4}),
		stream("zero struct", true, Everything{}),
		stream("recursive types", true, tree, Node{Label: "a", Next: &Node{Label: "b", Next: &Node{Label: "c"}}}),
		stream("interfaces", true, &holder, &nilAny, []any{int64(1), "two", Point{3, 4}, nil, []string{"x"}},
			Holder{Tag: "second", Payload: Holder{Tag: "inner", Payload: Point{5, 6}}}),
		stream("map keys and nesting", false, MapKeys{
			ByInt:  map[int64]string{-1: "neg", 1 << 60: "big", 0: "zero"},
			ByBool: map[bool][]string{true: {"t"}, false: nil},
			Nested: map[string]map[string]Point{"a": {"p": {1, 2}}, "empty": {}},
		}),
		stream("slices keep zero elements", true, SliceZeros{
			Ints: []int64{0, 0}, Strings: []string{"", "s"}, Points: []Point{{}, {1, 0}},
			Bytes: [][]byte{{}, {1}}, Maps: []map[string]int{nil, {}}, Times: []time.Time{{}, when},
		}),
		stream("times", true, when, time.Date(2024, 1, 2, 3, 4, 5, 0, time.FixedZone("IST", 5*3600+30*60)),
			time.Date(1850, 6, 1, 12, 0, 0, 0, amsterdamLMT), time.Time{}),
	}
	vectors = append(vectors, argoVectors()...)
	return append(vectors, deadlineVectors()...)
}

// argoVectors are the plugin stream as the controller writes it: request header, then the argument
// inside an `any`, one gob Encoder for the whole stream.
func testRollout() v1alpha1.Rollout {
	var ro v1alpha1.Rollout
	if err := yaml.UnmarshalStrict(rolloutYAML, &ro); err != nil {
		panic(err)
	}
	return ro
}

func argoVectors() []Vector {
	ro := testRollout()
	dests := []v1alpha1.WeightDestination{{ServiceName: "extra", PodTemplateHash: "abc123", Weight: 5}, {ServiceName: "zero"}}
	pct := int32(50)
	header := ro.Spec.Strategy.Canary.Steps[2].SetHeaderRoute
	mirror := ro.Spec.Strategy.Canary.Steps[3].SetMirrorRoute
	var (
		setWeight any = rpc.SetWeightAndVerifyWeightArgs{Rollout: ro, DesiredWeight: 30, AdditionalDestinations: dests}
		verify    any = rpc.SetWeightAndVerifyWeightArgs{Rollout: ro, DesiredWeight: 30}
		update    any = rpc.UpdateHashArgs{Rollout: ro, CanaryHash: "7d9f8c6b5", StableHash: "5c4b3a291", AdditionalDestinations: dests}
		setHeader any = rpc.SetHeaderArgs{Rollout: ro, SetHeaderRoute: *header}
		setMirror any = rpc.SetMirrorArgs{Rollout: ro, SetMirrorRoute: v1alpha1.SetMirrorRoute{Name: mirror.Name, Match: mirror.Match, Percentage: &pct}}
		remove    any = rpc.RemoveManagedRoutesArgs{Rollout: ro}
		nilArg    any
	)
	req := func(method string, seq uint64) rpcRequest { return rpcRequest{ServiceMethod: method, Seq: seq} }
	return []Vector{
		stream("argo plugin stream", false,
			req("Plugin.InitPlugin", 0), &nilArg,
			req("Plugin.Type", 1), &nilArg,
			req("Plugin.UpdateHash", 2), &update,
			req("Plugin.SetWeight", 3), &setWeight,
			req("Plugin.VerifyWeight", 4), &verify,
			req("Plugin.SetHeaderRoute", 5), &setHeader,
			req("Plugin.SetMirrorRoute", 300), &setMirror,
			req("Plugin.RemoveManagedRoutes", 1<<40), &remove,
		),
		// The minimal rollout of plugin-protocol.md appendix A, as a single-call stream.
		stream("argo minimal SetWeight", true, req("Plugin.SetWeight", 2), func() *any {
			var a any = rpc.SetWeightAndVerifyWeightArgs{DesiredWeight: 10, Rollout: v1alpha1.Rollout{}}
			return &a
		}()),
	}
}

// bigVector is a SetWeight and a VerifyWeight call carrying the test Rollout grown to n containers, each with env vars,
// ports and mounts, plus n annotations and a large plugin configuration.
func bigVector(n int) Vector {
	ro := testRollout()
	base := ro.Spec.Template.Spec.Containers[0]
	ro.Spec.Template.Spec.Containers = nil
	config := map[string]any{"ingresses": []string{}}
	for i := 0; i < n; i++ {
		c := *base.DeepCopy()
		c.Name = fmt.Sprintf("app-%d", i)
		for j := 0; j < 10; j++ {
			c.Env = append(c.Env, corev1.EnvVar{Name: fmt.Sprintf("VAR_%d_%d", i, j), Value: strings.Repeat("v", j*7)})
		}
		ro.Spec.Template.Spec.Containers = append(ro.Spec.Template.Spec.Containers, c)
		ro.Annotations[fmt.Sprintf("example.com/key-%d", i)] = strings.Repeat("ä", i%50)
		config["ingresses"] = append(config["ingresses"].([]string), fmt.Sprintf("ingress-%d", i))
	}
	raw, err := json.Marshal(config)
	if err != nil {
		panic(err)
	}
	ro.Spec.Strategy.Canary.TrafficRouting.Plugins["argoproj-labs/alb"] = raw
	var args any = rpc.SetWeightAndVerifyWeightArgs{Rollout: ro, DesiredWeight: 55}
	// Twice: the second call carries no type definitions, like every call after the first on a stream.
	return stream(fmt.Sprintf("big rollout, %d containers", n), false,
		rpcRequest{ServiceMethod: "Plugin.SetWeight", Seq: 9}, &args, rpcRequest{ServiceMethod: "Plugin.VerifyWeight", Seq: 10}, &args)
}
