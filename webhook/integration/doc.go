// Package integration holds the admission server's tests against a real
// kube-apiserver (envtest): the webhook configurations shipped in
// manifests/base are installed as they are, and the real server (cache,
// Lookup, handlers) answers them. It has no non-test code.
//
// The control plane binaries come from KUBEBUILDER_ASSETS, or bin/k8s in
// the repository (`make test` builds them).
package integration
