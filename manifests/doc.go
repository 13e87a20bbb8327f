// Package manifests holds no Go code that ships: it is the home of the
// Kubernetes manifests (kustomize base, overlays and components) and of the
// tests that render every kustomization with kubectl and check the
// properties an install depends on (least-privilege RBAC, the restricted
// security context, HA settings, the webhook configurations' selectors and
// failure policies), and that evaluate the matchConditions of the Gateway
// API, Envoy Gateway, Istio and GKE entries on a real API server with the
// real CRDs (matchconditions_test.go).
package manifests
