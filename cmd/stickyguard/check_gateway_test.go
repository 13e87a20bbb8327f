package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

const stickyRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: edge}]
  rules:
  - backendRefs: [{name: web, port: 80}]
    sessionPersistence: {sessionName: web}
`

const routeCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: httproutes.gateway.networking.k8s.io
  annotations: {gateway.networking.k8s.io/bundle-version: v1.6.3, gateway.networking.k8s.io/channel: experimental}
spec: {group: gateway.networking.k8s.io, names: {kind: HTTPRoute, plural: httproutes}}
`

func TestCheckGatewayAPIFlag(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		input    string
		code     int
		stderr   string // "" means empty
		contains bool
		stdout   string // a rule the report must name
	}{
		{name: "not a version", args: []string{"--gateway-api", "1.6"}, input: stickyRoute, code: exitError,
			stderr: "stickyguard check: --gateway-api: want VERSION[/CHANNEL] with a release version like v1.6.3 (e.g. v1.6.3/experimental), got \"1.6\"\n"},
		{name: "not a channel", args: []string{"--gateway-api", "v1.6.3/beta"}, input: stickyRoute, code: exitError,
			stderr: "stickyguard check: --gateway-api: the channel must be standard or experimental, got \"beta\"\n"},
		{name: "nothing says the bundle", input: stickyRoute, code: exitOK, contains: true,
			stderr: "the Gateway API version and channel are unknown"},
		{name: "the flag", args: []string{"--gateway-api", "v1.6.3/experimental"}, input: stickyRoute, code: exitOK},
		{name: "CRDs in the input", input: routeCRD + "---\n" + stickyRoute, code: exitOK},
		// v1.7 has no sessionName (GW-005): the flag's bundle is the one used.
		{name: "the flag overrides other CRDs in the input", args: []string{"--gateway-api", "v1.7.0/experimental"},
			input: routeCRD + "---\n" + stickyRoute, code: exitDenied, stdout: "GW-005", contains: true,
			stderr: "note: --gateway-api v1.7.0/experimental overrides the Gateway API CRDs in the input (v1.6.3 experimental, CRD httproutes.gateway.networking.k8s.io in -#1)"},
		{name: "no routes: no note", input: "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n", code: exitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"check"}, tc.args...), "-")
			code, stdout, stderr := runCmd(t, tc.input, args...)
			assert.Equal(t, tc.code, code, stderr)
			assert.Contains(t, stdout, tc.stdout)
			if tc.contains {
				assert.Contains(t, stderr, tc.stderr)
				assert.Equal(t, 1, strings.Count(stderr, "\n"), "one note: %s", stderr)
			} else {
				assert.Equal(t, tc.stderr, stderr)
			}
		})
	}
}
