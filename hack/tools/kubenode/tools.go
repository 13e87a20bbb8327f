//go:build tools

// Package tools records the node-side Kubernetes commands this module builds
// for the kind node image (hack/kind/build.sh).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
