package main

import (
	"encoding/gob"
	"fmt"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
)

// decodeKind decodes the next value into the Go type Argo's client (or net/rpc) decodes that reply into.
func decodeKind(dec *gob.Decoder, kind string) (any, error) {
	switch kind {
	case "response":
		var v rpcResponse
		return v, dec.Decode(&v)
	case "request":
		var v rpcRequest
		return v, dec.Decode(&v)
	case "rpcerror":
		var v types.RpcError
		return v, dec.Decode(&v)
	case "verify":
		var v rpc.VerifyWeightResponse
		return v, dec.Decode(&v)
	case "deadline":
		var v WeightUpdateDeadlineResponse
		return v, dec.Decode(&v)
	case "measurement":
		var v v1alpha1.Measurement
		err := dec.Decode(&v)
		return decodedMeasurement(v), err
	case "stringmap":
		var v map[string]string
		err := dec.Decode(&v)
		return map[string]any{"map": v, "isNil": v == nil}, err
	case "string":
		var v string
		return v, dec.Decode(&v)
	case "uint32":
		var v uint32
		return v, dec.Decode(&v)
	case "bool":
		var v bool
		return v, dec.Decode(&v)
	case "empty":
		var v struct{}
		return v, dec.Decode(&v)
	case "any":
		var v any
		return v, dec.Decode(&v)
	}
	return nil, fmt.Errorf("unknown kind %q", kind)
}
