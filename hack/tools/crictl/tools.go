//go:build tools

// Package tools records the commands hack/kind/build.sh builds from this module.
package tools

import (
	_ "sigs.k8s.io/cri-tools/cmd/crictl"
)
