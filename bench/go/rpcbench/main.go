// rpcbench times Argo's own RPC client (the controller side of go-plugin) calling SetWeight and
// VerifyWeight on a plugin started exactly as the controller starts one: exec, magic cookie, handshake
// line, yamux, net/rpc, gob. Run it against the Go no-op plugin and against our handshake binary +
// sidecar in no-op mode; the difference is protocol overhead. Prints one JSON object.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/hashicorp/go-hclog"
	goPlugin "github.com/hashicorp/go-plugin"
	"k8s.io/apimachinery/pkg/types"

	"github.com/argoproj-labs/rollouts-plugin-trafficrouter-alb/bench/internal/fixture"
)

type result struct {
	Name         string  `json:"name"`
	Calls        int     `json:"calls"`
	ArgsBytes    int     `json:"argsGobBytes"`
	SetWeightP50 float64 `json:"setWeightP50Ms"`
	SetWeightP99 float64 `json:"setWeightP99Ms"`
	VerifyP50    float64 `json:"verifyWeightP50Ms"`
	VerifyP99    float64 `json:"verifyWeightP99Ms"`
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p * float64(len(sorted)-1))
	return float64(sorted[i].Microseconds()) / 1000
}

func main() {
	name := flag.String("name", "plugin", "label for the result")
	calls := flag.Int("calls", 500, "timed calls per method")
	warmup := flag.Int("warmup", 50, "untimed calls first")
	distinct := flag.Int("distinct", 0, "instead of timing: send SetWeight+VerifyWeight for this many distinct Rollouts (bench-<i> on Ingress bench-ing-<i>)")
	dump := flag.Int("dump-rollouts", 0, "only print the first N Rollouts of -distinct as one JSON array (what a Kubernetes API would list) and exit")
	flag.Parse()
	if *dump > 0 {
		list := make([]any, 0, *dump)
		for i := 0; i < *dump; i++ {
			list = append(list, distinctRollout(i))
		}
		out, err := json.Marshal(list)
		if err != nil {
			fmt.Fprintln(os.Stderr, "dump:", err)
			os.Exit(1)
		}
		fmt.Println(string(out))
		return
	}
	if flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: rpcbench [-name N] [-calls N] -- plugin-binary [args...]")
		os.Exit(2)
	}
	client := goPlugin.NewClient(&goPlugin.ClientConfig{
		HandshakeConfig: goPlugin.HandshakeConfig{
			ProtocolVersion: 1, MagicCookieKey: "ARGO_ROLLOUTS_RPC_PLUGIN", MagicCookieValue: "trafficrouter",
		},
		Plugins:          map[string]goPlugin.Plugin{"RpcTrafficRouterPlugin": &rpc.RpcTrafficRouterPlugin{}},
		Cmd:              exec.Command(flag.Arg(0), flag.Args()[1:]...),
		Logger:           hclog.New(&hclog.LoggerOptions{Level: hclog.Warn, Output: os.Stderr}),
		StartTimeout:     30 * time.Second,
		AllowedProtocols: []goPlugin.Protocol{goPlugin.ProtocolNetRPC},
	})
	defer client.Kill()
	rpcClient, err := client.Client()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start plugin:", err)
		os.Exit(1)
	}
	raw, err := rpcClient.Dispense("RpcTrafficRouterPlugin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "dispense:", err)
		os.Exit(1)
	}
	plugin := raw.(rpc.TrafficRouterPlugin)
	if e := plugin.InitPlugin(); e.HasError() {
		fmt.Fprintln(os.Stderr, "init:", e.Error())
		os.Exit(1)
	}
	if *distinct > 0 {
		serveDistinct(plugin, *distinct)
		return
	}
	ro := fixture.Rollout("bench", `{"ingress":"bench-ingress","servicePort":80}`)
	var size bytes.Buffer
	var args any = rpc.SetWeightAndVerifyWeightArgs{Rollout: *ro, DesiredWeight: 10}
	if err := gob.NewEncoder(&size).Encode(&args); err != nil {
		fmt.Fprintln(os.Stderr, "gob size:", err)
		os.Exit(1)
	}

	timeIt := func(f func() string) []time.Duration {
		for i := 0; i < *warmup; i++ {
			if msg := f(); msg != "" {
				fmt.Fprintln(os.Stderr, "call failed:", msg)
				os.Exit(1)
			}
		}
		out := make([]time.Duration, 0, *calls)
		for i := 0; i < *calls; i++ {
			start := time.Now()
			if msg := f(); msg != "" {
				fmt.Fprintln(os.Stderr, "call failed:", msg)
				os.Exit(1)
			}
			out = append(out, time.Since(start))
		}
		sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
		return out
	}
	set := timeIt(func() string { return plugin.SetWeight(ro, 10, nil).ErrorString })
	verify := timeIt(func() string {
		_, e := plugin.VerifyWeight(ro, 10, nil)
		return e.ErrorString
	})
	res := result{
		Name: *name, Calls: *calls, ArgsBytes: size.Len(),
		SetWeightP50: percentile(set, 0.50), SetWeightP99: percentile(set, 0.99),
		VerifyP50: percentile(verify, 0.50), VerifyP99: percentile(verify, 0.99),
	}
	out, _ := json.Marshal(res)
	fmt.Println(strings.TrimSpace(string(out)))
}

// distinctRollout is Rollout i of -distinct: bench-<i> on Ingress bench-ing-<i>, a UID of its own.
func distinctRollout(i int) *v1alpha1.Rollout {
	ro := fixture.Rollout(fmt.Sprintf("bench-%d", i), fmt.Sprintf(`{"ingress":"bench-ing-%d","servicePort":80}`, i))
	ro.UID = types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", i))
	return ro
}

// serveDistinct makes the plugin serve many different Rollouts, as a controller with many Rollouts
// does, so the sidecar's memory can be read afterwards.
func serveDistinct(plugin rpc.TrafficRouterPlugin, n int) {
	errors, first := 0, ""
	for i := 0; i < n; i++ {
		ro := distinctRollout(i)
		msg := plugin.SetWeight(ro, 10, nil).ErrorString
		if msg == "" {
			_, e := plugin.VerifyWeight(ro, 10, nil)
			msg = e.ErrorString
		}
		if msg != "" {
			errors++
			if first == "" {
				first = msg
			}
		}
	}
	out, _ := json.Marshal(map[string]any{"distinct": n, "errors": errors, "firstError": first})
	fmt.Println(string(out))
}
