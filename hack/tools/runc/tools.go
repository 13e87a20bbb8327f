//go:build tools

// Package tools records the commands hack/kind/build.sh builds from this module.
package tools

import (
	_ "github.com/opencontainers/runc"
)
