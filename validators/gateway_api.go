package validators

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// gatewayRules: Gateway API sessionPersistence (GATEWAY-FACTS §A, §B.4 GWX).
var gatewayRules = []*Rule{}

func validateRouteGateway(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}

func validateRouteGatewayOffline(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}

func validateBackendPolicyGateway(p, _ *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}

func validateBackendPolicyGatewayOffline(p, _ *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}
