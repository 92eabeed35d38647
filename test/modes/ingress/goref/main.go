// goref prints what Go's encoding/json writes for the annotation values Argo Rollouts produces, using
// structs with the same json tags as Argo's utils/ingress types. The TypeScript tests compare our encoder
// with it byte for byte. Input on stdin: a JSON array of cases; output: a JSON array of the encoded strings.
package main

import (
	"encoding/json"
	"fmt"
	"os"
)

type targetGroup struct {
	ServiceName string `json:"ServiceName,omitempty"`
	ServicePort string `json:"ServicePort,omitempty"`
	Weight      *int64 `json:"Weight,omitempty"`
}

type stickiness struct {
	Enabled         bool  `json:"Enabled"`
	DurationSeconds int64 `json:"DurationSeconds"`
}

type forwardConfig struct {
	TargetGroups                []targetGroup `json:"TargetGroups"`
	TargetGroupStickinessConfig *stickiness   `json:"TargetGroupStickinessConfig,omitempty"`
}

type action struct {
	Type          string        `json:"Type"`
	ForwardConfig forwardConfig `json:"ForwardConfig"`
}

type headerConfig struct {
	HttpHeaderName string   `json:"httpHeaderName"`
	Values         []string `json:"values"`
}

type condition struct {
	Field            string       `json:"field"`
	HttpHeaderConfig headerConfig `json:"httpHeaderConfig"`
}

// One case; exactly one of the fields is set.
type input struct {
	Action *struct {
		TargetGroups []struct {
			ServiceName string `json:"serviceName"`
			ServicePort string `json:"servicePort"`
			Weight      int64  `json:"weight"`
		} `json:"targetGroups"`
		Stickiness *stickiness `json:"stickiness"`
	} `json:"action"`
	Conditions []struct {
		HeaderName string   `json:"headerName"`
		Values     []string `json:"values"`
	} `json:"conditions"`
	Managed map[string][]string `json:"managed"`
}

func encode(in input) ([]byte, error) {
	switch {
	case in.Action != nil:
		out := action{Type: "forward"}
		for _, tg := range in.Action.TargetGroups {
			w := tg.Weight
			out.ForwardConfig.TargetGroups = append(out.ForwardConfig.TargetGroups, targetGroup{tg.ServiceName, tg.ServicePort, &w})
		}
		if in.Action.Stickiness != nil && in.Action.Stickiness.Enabled {
			out.ForwardConfig.TargetGroupStickinessConfig = in.Action.Stickiness
		}
		return json.Marshal(out)
	case in.Conditions != nil:
		out := []condition{}
		for _, c := range in.Conditions {
			out = append(out, condition{"http-header", headerConfig{c.HeaderName, c.Values}})
		}
		return json.Marshal(out)
	case in.Managed != nil:
		return json.Marshal(in.Managed)
	}
	return nil, fmt.Errorf("empty case")
}

func main() {
	var cases []input
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "decode:", err)
		os.Exit(1)
	}
	results := make([]string, 0, len(cases))
	for i, c := range cases {
		b, err := encode(c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "case %d: %v\n", i, err)
			os.Exit(1)
		}
		results = append(results, string(b))
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		os.Exit(1)
	}
}
