//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gatewayBundle is the Gateway API bundle the scenario needs: the
// experimental channel (sessionPersistence), v1.6.3.
const gatewayBundle = "gateway-api-v1.6.3-experimental"

// requireGatewayCRDs installs the real Gateway API CRDs
// (hack/gateway-crds.sh) unless the harness did, and waits until the
// HTTPRoute kind is served.
func requireGatewayCRDs(t *testing.T) {
	t.Helper()
	cmd := exec.Command(filepath.Join(env.Root, "hack", "gateway-crds.sh"), "paths", gatewayBundle)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "hack/gateway-crds.sh paths %s: %s", gatewayBundle, stderr.String())
	files := strings.Fields(string(out))
	require.NotEmpty(t, files)
	args := []string{"apply", "--server-side", "--force-conflicts", "--field-manager=stickyguard-e2e"}
	for _, f := range files {
		args = append(args, "-f", f)
	}
	mustKubectl(t, nil, args...)
	mustKubectl(t, nil, "wait", "--for=condition=Established", "--timeout=60s",
		"crd/httproutes.gateway.networking.k8s.io", "crd/gateways.gateway.networking.k8s.io", "crd/gatewayclasses.gateway.networking.k8s.io")
	eventually(t, 60*time.Second, "HTTPRoute served", func() error {
		return kubectl(t, nil, "get", "httproutes.gateway.networking.k8s.io", "-A", "--request-timeout=5s").Err
	})
}

// meshRoute is a GAMMA route (parent: the Service reviews) with session
// persistence to reviews, whose ClientIP affinity GEP-1619 says such a
// route must be rejected for (GWX-006).
const meshRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs:
  - group: ""
    kind: Service
    name: reviews
    port: 9080
  rules:
  - backendRefs:
    - name: reviews
      port: 9080
    sessionPersistence:
      sessionName: reviews-session
`

const clientIPService = `apiVersion: v1
kind: Service
metadata:
  name: reviews
spec:
  selector: {app: reviews}
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 3600}}
  ports:
  - {name: http, port: 9080}
`

// istioRoute is a route on a Gateway of Istio's GatewayClass, which
// accepts sessionPersistence and ignores it (GWI-001).
func istioRoute(class string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: %[1]s
spec:
  controllerName: istio.io/gateway-controller
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shop
spec:
  gatewayClassName: %[1]s
  listeners:
  - {name: http, port: 80, protocol: HTTP, hostname: shop.example.com}
---
apiVersion: v1
kind: Service
metadata:
  name: cart
spec:
  selector: {app: cart}
  ports:
  - {name: http, port: 80}
`, class)
}

const cartRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: cart
spec:
  parentRefs:
  - name: shop
  hostnames: [shop.example.com]
  rules:
  - backendRefs:
    - name: cart
      port: 80
    sessionPersistence:
      sessionName: cart-session
`

// testGatewayRoutes: with the real experimental Gateway API CRDs, an
// HTTPRoute that GEP-1619 says must be rejected is denied in enforce mode
// (GWX-006), only warned about in audit mode and untouched elsewhere; a
// route on an Istio Gateway is admitted with GWI-001's warning.
func testGatewayRoutes(t *testing.T) {
	requireGatewayCRDs(t)
	nss := map[string]string{
		enforce: namespace(t, "gw-enforce", enforce),
		audit:   namespace(t, "gw-audit", audit),
		off:     namespace(t, "gw-off", off),
	}
	class := env.Prefix + "-istio"
	if !env.Keep {
		t.Cleanup(func() { kubectl(t, nil, "delete", "gatewayclass", class, "--wait=false") })
	}
	for _, ns := range nss {
		mustKubectl(t, []byte(clientIPService), "-n", ns, "apply", "--server-side", "-f", "-")
		mustKubectl(t, []byte(istioRoute(class)), "-n", ns, "apply", "--server-side", "-f", "-")
	}

	t.Run("enforce: a mesh route with persistence to a ClientIP Service is rejected (GWX-006)", func(t *testing.T) {
		ns := nss[enforce]
		// The webhook's cache sees the Service a moment after it is created.
		eventually(t, 30*time.Second, "GWX-006 on a dry run", func() error {
			r := kubectl(t, []byte(meshRoute), "-n", ns, "apply", "--server-side", "--dry-run=server", "-f", "-")
			if r.Err == nil || !strings.Contains(r.Stderr, "GWX-006") {
				return fmt.Errorf("not rejected with GWX-006 yet: %s", r)
			}
			return nil
		})
		r := kubectl(t, []byte(meshRoute), "-n", ns, "apply", "--server-side", "-f", "-")
		require.Error(t, r.Err, "enforce must reject the mesh route\n%s", r)
		assert.Contains(t, r.Stderr, "GWX-006")
		assert.Contains(t, r.Stderr, "is invalid", "a 422 Invalid with causes")
		assert.Contains(t, r.Stderr, "spec.rules[0].backendRefs[0]", "the cause names the backendRef")
		assert.Error(t, kubectl(t, nil, "-n", ns, "get", "httproute", "reviews").Err, "nothing stored")
	})

	t.Run("enforce: a route on an Istio Gateway is admitted with a warning (GWI-001)", func(t *testing.T) {
		ns := nss[enforce]
		eventually(t, 30*time.Second, "GWI-001 on a dry run", func() error {
			r := kubectl(t, []byte(cartRoute), "-n", ns, "apply", "--server-side", "--dry-run=server", "-f", "-")
			if r.Err != nil || !anyContains(r.Warnings(), "GWI-001") {
				return fmt.Errorf("no GWI-001 warning yet: %s", r)
			}
			return nil
		})
		r := mustKubectl(t, []byte(cartRoute), "-n", ns, "apply", "--server-side", "-f", "-")
		assert.True(t, anyContains(r.Warnings(), "GWI-001", "Istio"), "the warning names GWI-001 and Istio: %q", r.Warnings())
		getJSON(t, ns, "httproute", "cart") // stored
	})

	t.Run("audit: the mesh route is admitted with an [audit] warning", func(t *testing.T) {
		ns := nss[audit]
		eventually(t, 30*time.Second, "[audit] GWX-006 on a dry run", func() error {
			r := kubectl(t, []byte(meshRoute), "-n", ns, "apply", "--server-side", "--dry-run=server", "-f", "-")
			if r.Err != nil || !anyContains(r.Warnings(), "[audit]", "GWX-006") {
				return fmt.Errorf("no [audit] GWX-006 warning yet: %s", r)
			}
			return nil
		})
		r := mustKubectl(t, []byte(meshRoute), "-n", ns, "apply", "--server-side", "-f", "-")
		assert.True(t, anyContains(r.Warnings(), "[audit]", "GWX-006"), "%q", r.Warnings())
	})

	t.Run("unlabelled namespace: admitted without stickyguard warnings", func(t *testing.T) {
		ns := nss[off]
		for _, doc := range []string{meshRoute, cartRoute} {
			r := mustKubectl(t, []byte(doc), "-n", ns, "apply", "--server-side", "-f", "-")
			for _, w := range r.Warnings() {
				assert.NotRegexp(t, `\[audit\]|[A-Z]{2,4}-[0-9D]{2,3}`, w)
			}
		}
	})
}
