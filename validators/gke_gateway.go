package validators

import (
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// gkeGatewayRules: GKE GCPBackendPolicy sessionAffinity (GATEWAY-FACTS §E).
var gkeGatewayRules = []*Rule{}

func validateGCPBackendPolicy(p, _ *apis.GCPBackendPolicy, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}
