package validators

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// gatewayImplRules: what each Gateway API implementation does with
// sessionPersistence (GATEWAY-FACTS §B.2, §B.3, §B.4 GWI).
var gatewayImplRules = []*Rule{}

func validateRouteImpl(r, _ *apis.Route, ctx *Context) (field.ErrorList, Warnings) { return nil, nil }

func validateBackendPolicyImpl(p, _ *apis.BackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}
