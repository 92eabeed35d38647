// noopplugin is the Go side of the RPC-overhead benchmark: a traffic-router plugin served by
// hashicorp/go-plugin exactly as Go plugins are, whose every method returns at once. Timing Argo's RPC
// client against it and against our sidecar (also in no-op mode) isolates the protocol path.
package main

import (
	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/argoproj/argo-rollouts/rollout/trafficrouting/plugin/rpc"
	"github.com/argoproj/argo-rollouts/utils/plugin/types"
	goPlugin "github.com/hashicorp/go-plugin"
)

type noop struct{}

func (noop) InitPlugin() types.RpcError { return types.RpcError{} }
func (noop) UpdateHash(*v1alpha1.Rollout, string, string, []v1alpha1.WeightDestination) types.RpcError {
	return types.RpcError{}
}
func (noop) SetWeight(*v1alpha1.Rollout, int32, []v1alpha1.WeightDestination) types.RpcError {
	return types.RpcError{}
}
func (noop) SetHeaderRoute(*v1alpha1.Rollout, *v1alpha1.SetHeaderRoute) types.RpcError {
	return types.RpcError{}
}
func (noop) SetMirrorRoute(*v1alpha1.Rollout, *v1alpha1.SetMirrorRoute) types.RpcError {
	return types.RpcError{}
}
func (noop) VerifyWeight(*v1alpha1.Rollout, int32, []v1alpha1.WeightDestination) (types.RpcVerified, types.RpcError) {
	return types.NotImplemented, types.RpcError{}
}
func (noop) RemoveManagedRoutes(*v1alpha1.Rollout) types.RpcError { return types.RpcError{} }
func (noop) Type() string                                         { return "noop" }

func main() {
	goPlugin.Serve(&goPlugin.ServeConfig{
		HandshakeConfig: goPlugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
			MagicCookieValue: "trafficrouter",
		},
		Plugins: map[string]goPlugin.Plugin{
			"RpcTrafficRouterPlugin": &rpc.RpcTrafficRouterPlugin{Impl: noop{}},
		},
	})
}
