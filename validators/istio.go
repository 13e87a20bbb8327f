package validators

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// istioRules: Istio DestinationRule consistentHash and the persistent-session
// Service labels (GATEWAY-FACTS §D).
var istioRules = []*Rule{}

func validateDestinationRule(d, _ *apis.DestinationRule, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}

func validateServiceIstio(svc, _ *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}
