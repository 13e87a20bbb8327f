// Package manifests holds no Go code that ships: it is the home of the
// Kubernetes manifests (kustomize base, overlays and components) and of the
// test that renders every kustomization with kubectl and checks the
// properties an install depends on (least-privilege RBAC, the restricted
// security context, HA settings, the webhook configurations' selectors and
// failure policies).
package manifests
