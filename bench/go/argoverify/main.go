// argoverify runs Argo Rollouts' own ALB weight verification code (utils/aws, the package the
// controller calls from VerifyWeight) the way the controller does: a fresh client per reconcile, the
// load balancer found by scanning DescribeLoadBalancers for the Ingress hostname, then the target-group
// metadata (target groups, tags, listeners, rules). Point AWS_ENDPOINT_URL at the same call-counting
// proxy as our verifier so both are measured against the same ELBv2 peer. Prints one JSON object.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/argoproj/argo-rollouts/utils/aws"
)

func main() {
	hostnames := flag.String("hostnames", "", "comma-separated Ingress load-balancer hostnames")
	canaryTag := flag.String("canary-resource", "", "ingress.k8s.aws/resource tag of the canary target group")
	desired := flag.Int("desired", 10, "desired canary weight")
	verifications := flag.Int("verifications", 5, "how many verifications to run")
	flag.Parse()
	hosts := strings.Split(*hostnames, ",")
	ctx := context.Background()
	var durations []time.Duration
	verifiedCount := 0
	for i := 0; i < *verifications; i++ {
		start := time.Now()
		client, err := aws.NewClient()
		if err != nil {
			fail(err)
		}
		ok := true
		for _, host := range hosts {
			lb, err := client.FindLoadBalancerByDNSName(ctx, host)
			if err != nil {
				fail(err)
			}
			if lb == nil {
				fail(fmt.Errorf("load balancer %s not found", host))
			}
			tgs, err := client.GetTargetGroupMetadata(ctx, *lb.LoadBalancerArn)
			if err != nil {
				fail(err)
			}
			matched := false
			for _, tg := range tgs {
				if tg.Tags["ingress.k8s.aws/resource"] == *canaryTag && tg.Weight != nil && int(*tg.Weight) == *desired {
					matched = true
				}
			}
			ok = ok && matched
		}
		durations = append(durations, time.Since(start))
		if ok {
			verifiedCount++
		}
	}
	sort.Slice(durations, func(a, b int) bool { return durations[a] < durations[b] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	out, _ := json.Marshal(map[string]any{
		"verifications": *verifications, "verified": verifiedCount,
		"p50Ms": ms(durations[len(durations)/2]), "maxMs": ms(durations[len(durations)-1]),
	})
	fmt.Println(string(out))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "argoverify:", err)
	os.Exit(1)
}
