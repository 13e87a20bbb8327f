package corpus

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The Gateway API and mesh control planes: a kube-apiserver per Gateway API
// bundle (experimental channel) with the real CRDs of Gateway API, Envoy
// Gateway and Istio (hack/gateway-crds.sh: Go module proxy, pinned and
// verified), the stand-in GCPBackendPolicy CRD, the shipped webhook
// configurations and the recording server. Started on first use, stopped
// by TestMain.

// gatewayVersions are the Gateway API bundles the corpus runs on: v1.6.3
// (the newest v1.6, the default), v1.7.0 (the cookie/header shape) and
// v1.5.1 (the last with idleTimeout).
var gatewayVersions = []string{"v1.6.3", "v1.7.0", "v1.5.1"}

// defaultGatewayVersion is the bundle of an example that names none.
const defaultGatewayVersion = "v1.6.3"

var planes struct {
	mu  sync.Mutex
	all map[string]*controlPlane // by bundle version
}

// gatewayPlane returns the control plane with the Gateway API bundle
// version (experimental channel), starting it on first use.
func gatewayPlane(t *testing.T, version string) *controlPlane {
	t.Helper()
	planes.mu.Lock()
	defer planes.mu.Unlock()
	if planes.all == nil {
		planes.all = map[string]*controlPlane{}
	}
	if c, ok := planes.all[version]; ok {
		require.NoError(t, c.err)
		return c
	}
	c := &controlPlane{}
	planes.all[version] = c
	crds, err := crdFiles("gateway-api-"+version+"-experimental", "envoy-gateway-v1.9.1", "istio-v1.32.0")
	if err == nil {
		c.err = startControlPlane(c, append(crds, gkeCRD()))
	} else {
		c.err = err
	}
	require.NoError(t, c.err, "control plane with Gateway API %s", version)
	return c
}

// startedPlanes lists the Gateway API control planes started so far.
func startedPlanes() []*controlPlane {
	planes.mu.Lock()
	defer planes.mu.Unlock()
	var keys []string
	for k := range planes.all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []*controlPlane
	for _, k := range keys {
		out = append(out, planes.all[k])
	}
	return out
}

// crdFiles returns the CRD files of the bundles (hack/gateway-crds.sh).
func crdFiles(bundles ...string) ([]string, error) {
	cmd := exec.Command(filepath.Join(repoRoot(), "hack", "gateway-crds.sh"), append([]string{"paths"}, bundles...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("hack/gateway-crds.sh paths %s: %w: %s", strings.Join(bundles, " "), err, stderr.String())
	}
	files := strings.Fields(string(out))
	if len(files) == 0 {
		return nil, fmt.Errorf("hack/gateway-crds.sh listed no CRDs for %v", bundles)
	}
	return files, nil
}

// gkeCRD is the stand-in GCPBackendPolicy CRD (GKE installs the real one).
func gkeCRD() string {
	return filepath.Join(repoRoot(), "webhook", "corpus", "testdata", "crds", "gcpbackendpolicies.networking.gke.io.yaml")
}
