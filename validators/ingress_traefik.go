package validators

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// STUB: replaced by the family's implementation.
var traefikRules = []*Rule{}

func validateServiceTraefik(svc, old *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}
func validateIngressTraefik(ing, old *networkingv1.Ingress, ctx *Context) (field.ErrorList, Warnings) {
	return nil, nil
}

var _ = appsv1.Deployment{}
var _ = corev1.Service{}
var _ = networkingv1.Ingress{}
