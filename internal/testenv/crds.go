package testenv

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The real CustomResourceDefinitions the tests install, from the Go module
// proxy: the newest Gateway API v1.6, Envoy Gateway and Istio releases the
// rules were checked against.
const (
	GatewayAPIModule    = "sigs.k8s.io/gateway-api"
	GatewayAPIVersion   = "v1.6.3"
	EnvoyGatewayModule  = "github.com/envoyproxy/gateway"
	EnvoyGatewayVersion = "v1.9.1"
	IstioAPIModule      = "istio.io/api"
	IstioAPIVersion     = "v1.32.0"
)

// ModuleDir returns the directory of module@version in the module cache,
// downloading it through the Go module proxy first when it is not there
// (`go mod download`, outside this module: go.mod and go.sum are not
// touched). It fails, never skips: the proofs against the real CRDs must
// not pass by not running.
func ModuleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &info); jerr == nil && info.Error != "" {
		return "", fmt.Errorf("go mod download %s@%s: %s (the tests need the Go module proxy or a module cache holding it)", module, version, info.Error)
	}
	if err != nil {
		return "", fmt.Errorf("go mod download %s@%s: %v: %s (the tests need the Go module proxy or a module cache holding it)", module, version, err, stderr.String())
	}
	if info.Dir == "" {
		return "", fmt.Errorf("go mod download %s@%s gave no directory", module, version)
	}
	return info.Dir, nil
}

// GatewayAPICRDs is the directory of the Gateway API CRDs of a channel
// ("standard" or "experimental").
func GatewayAPICRDs(channel string) (string, error) {
	dir, err := ModuleDir(GatewayAPIModule, GatewayAPIVersion)
	if err != nil {
		return "", err
	}
	return existing(filepath.Join(dir, "config", "crd", channel))
}

// EnvoyGatewayCRD is Envoy Gateway's BackendTrafficPolicy CRD (the Gateway
// API CRDs its chart also ships are left out: GatewayAPICRDs installs them).
func EnvoyGatewayCRD() (string, error) {
	dir, err := ModuleDir(EnvoyGatewayModule, EnvoyGatewayVersion)
	if err != nil {
		return "", err
	}
	return existing(filepath.Join(dir, "charts", "gateway-helm", "charts", "crds", "crds", "generated",
		"gateway.envoyproxy.io_backendtrafficpolicies.yaml"))
}

// IstioCRDs is the file with every Istio CRD.
func IstioCRDs() (string, error) {
	dir, err := ModuleDir(IstioAPIModule, IstioAPIVersion)
	if err != nil {
		return "", err
	}
	return existing(filepath.Join(dir, "kubernetes", "customresourcedefinitions.gen.yaml"))
}

func existing(path string) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	return path, nil
}

// InstallCRDs installs the CRDs of files or directories (other objects in
// them are ignored) into a running control plane and waits until they are
// served.
func InstallCRDs(cfg *rest.Config, paths ...string) ([]*apiextensionsv1.CustomResourceDefinition, error) {
	return envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: paths, ErrorIfPathMissing: true})
}
