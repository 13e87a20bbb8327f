//go:build tools

// Package tools records the modules whose CRDs hack/gateway-crds.sh serves:
// Gateway API (config/crd), Envoy Gateway (charts/gateway-helm/charts/crds)
// and Istio (kubernetes/customresourcedefinitions.gen.yaml).
package tools

import (
	_ "github.com/envoyproxy/gateway/api/v1alpha1"
	_ "istio.io/api/networking/v1"
	_ "sigs.k8s.io/gateway-api/apis/v1"
)
