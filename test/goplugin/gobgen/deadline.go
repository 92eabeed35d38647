package main

import (
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
)

// Argo master (after v1.10) added Plugin.GetWeightUpdateDeadline and Plugin.ClearWeightUpdateDeadline. The
// pinned release lacks their types, so they are declared here with the same names, fields and registered
// names as rollout/trafficrouting/plugin/rpc/rpc.go on master: gob only sees those.

type WeightUpdateDeadlineResponse struct {
	Deadline *time.Time
	Err      types.RpcError
}

type GetWeightUpdateDeadlineArgs struct {
	Rollout v1alpha1.Rollout
}

type ClearWeightUpdateDeadlineArgs struct {
	Rollout v1alpha1.Rollout
}

func init() {
	register("GetWeightUpdateDeadlineArgs", new(GetWeightUpdateDeadlineArgs))
	register("ClearWeightUpdateDeadlineArgs", new(ClearWeightUpdateDeadlineArgs))
}

func deadlineVectors() []Vector {
	ro := v1alpha1.Rollout{}
	ro.Name = "deadline-rollout"
	ro.Namespace = "apps"
	var (
		get any = GetWeightUpdateDeadlineArgs{Rollout: ro}
		clr any = ClearWeightUpdateDeadlineArgs{Rollout: ro}
	)
	return []Vector{
		// As on a real plugin stream: InitPlugin's RpcError goes first, so only the new types are defined here.
		stream("argo master weight-update deadline replies", true,
			types.RpcError{},
			WeightUpdateDeadlineResponse{},
			WeightUpdateDeadlineResponse{Err: types.RpcError{ErrorString: "boom"}},
		),
		stream("argo master weight-update deadline reply first on its stream", true, WeightUpdateDeadlineResponse{}),
		stream("argo master weight-update deadline calls", true,
			rpcRequest{ServiceMethod: "Plugin.GetWeightUpdateDeadline", Seq: 8}, &get,
			rpcRequest{ServiceMethod: "Plugin.ClearWeightUpdateDeadline", Seq: 9}, &clr,
		),
	}
}
