package validators

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// envoyGatewayRules: Envoy Gateway BackendTrafficPolicy consistentHash
// (GATEWAY-FACTS §C).
var envoyGatewayRules = []*Rule{}

func validateEnvoyPolicy(p, _ *apis.EnvoyBackendTrafficPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}

func validateRouteEnvoy(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) { return nil, nil }
