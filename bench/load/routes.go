package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// HTTPRoutes in the end-to-end mode: the load tool's kube-apiserver gets
// the Gateway API experimental CRDs (sessionPersistence exists only in the
// experimental channel), a GatewayClass of Envoy Gateway (which honours
// route sessionPersistence), a Gateway and the routes' backend Service, so
// stickyguard's lookups find what a cluster would have.

// gatewayAPIModule and gatewayAPIVersion are the CRD bundle used when
// hack/tools/gatewaycrds (which pins it for the tests) is not there.
const (
	gatewayAPIModule  = "sigs.k8s.io/gateway-api"
	gatewayAPIVersion = "v1.6.3"
	gatewayGroup      = "gateway.networking.k8s.io"
	// Envoy Gateway's controllerName (GATEWAY-FACTS B.2), an implementation
	// that honours HTTPRoute sessionPersistence (B.3).
	gatewayController = "gateway.envoyproxy.io/gatewayclass-controller"
	gatewayClassName  = "bench-eg"
	gatewayName       = "shop"
	routeBackend      = "shop-web"
	routeHost         = "shop.example.com"
)

// locateGatewayCRDs returns the folder of the experimental CRDs: the
// module version hack/tools/gatewaycrds pins (`go mod download -json` in
// that module), else gatewayAPIVersion, both from the Go module cache.
func locateGatewayCRDs() (string, error) {
	root := repoRoot()
	dir, arg := root, gatewayAPIModule+"@"+gatewayAPIVersion
	if tools := filepath.Join(root, "hack", "tools", "gatewaycrds"); fileExists(filepath.Join(tools, "go.mod")) {
		dir, arg = tools, gatewayAPIModule
	}
	cmd := exec.Command("go", "mod", "download", "-json", arg)
	cmd.Dir = dir
	out, err := cmd.Output()
	var mod struct{ Dir, Version, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Dir == "" {
		return "", fmt.Errorf("go mod download -json %s (in %s): %v %s %s", arg, dir, err, mod.Error, exitStderr(err))
	}
	crds := filepath.Join(mod.Dir, "config", "crd", "experimental")
	if !fileExists(filepath.Join(crds, gatewayGroup+"_httproutes.yaml")) {
		return "", fmt.Errorf("%s: no HTTPRoute CRD", crds)
	}
	return crds, nil
}

// gatewayCRDFiles are the CRDs of the bundle the load needs: the routes,
// their Gateway and its class (the bundle's other kinds only add to the
// control plane's start).
func gatewayCRDFiles(dir string) []string {
	var out []string
	for _, r := range []string{"gatewayclasses", "gateways", "httproutes"} {
		out = append(out, filepath.Join(dir, gatewayGroup+"_"+r+".yaml"))
	}
	return out
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func exitStderr(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// rawObject is a custom resource the load sends as JSON (CRDs have no
// protobuf); the body is complete.
type rawObject struct {
	resource string
	body     []byte
}

// routeObject is an HTTPRoute as an application chart writes it: a host
// on the Gateway, an /api rule and a catch-all rule to one Service. sticky
// adds cookie sessionPersistence to the catch-all rule in the v1.1–v1.6
// shape of the installed CRDs (named cookie, permanent, with the
// absoluteTimeout the CRD's CEL requires for Permanent).
func routeObject(name, app string, sticky bool) rawObject {
	backend := []any{map[string]any{"name": routeBackend, "port": 80}}
	prefix := func(p string) []any {
		return []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": p}}}
	}
	catchAll := map[string]any{"matches": prefix("/"), "backendRefs": backend}
	if sticky {
		catchAll["sessionPersistence"] = map[string]any{
			"sessionName": "shop-session", "type": "Cookie", "absoluteTimeout": "24h",
			"cookieConfig": map[string]any{"lifetimeType": "Permanent"},
		}
	}
	obj := map[string]any{
		"apiVersion": gatewayGroup + "/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": name, "labels": helmLabels(app), "annotations": helmAnnotations()},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": gatewayName, "sectionName": "http"}},
			"hostnames":  []any{routeHost},
			"rules":      []any{map[string]any{"matches": prefix("/api"), "backendRefs": backend}, catchAll},
		},
	}
	b, err := json.Marshal(obj)
	if err != nil {
		panic(err) // maps of strings and ints always marshal
	}
	return rawObject{resource: "httproutes", body: b}
}

// gatewayClient is a JSON REST client for gateway.networking.k8s.io/v1.
func gatewayClient(cfg *rest.Config) (*rest.RESTClient, error) {
	c := rest.CopyConfig(cfg)
	c.ContentType = "application/json"
	c.AcceptContentTypes = "application/json"
	c.GroupVersion = &schema.GroupVersion{Group: gatewayGroup, Version: "v1"}
	c.APIPath = "/apis"
	c.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	return rest.RESTClientFor(c)
}

// setUpGateway creates the GatewayClass, the Gateway and the backend
// Service the routes refer to (before any admission configuration).
func (h *Harness) setUpGateway(ctx context.Context) error {
	c, err := gatewayClient(h.Config)
	if err != nil {
		return err
	}
	h.gateway = c
	class := map[string]any{
		"apiVersion": gatewayGroup + "/v1", "kind": "GatewayClass",
		"metadata": map[string]any{"name": gatewayClassName},
		"spec":     map[string]any{"controllerName": gatewayController},
	}
	gw := map[string]any{
		"apiVersion": gatewayGroup + "/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": gatewayName},
		"spec": map[string]any{
			"gatewayClassName": gatewayClassName,
			"listeners":        []any{map[string]any{"name": "http", "protocol": "HTTP", "port": 80, "hostname": routeHost}},
		},
	}
	for _, o := range []struct {
		resource, ns string
		obj          any
	}{{"gatewayclasses", "", class}, {"gateways", e2eNamespace, gw}} {
		b, err := json.Marshal(o.obj)
		if err != nil {
			return err
		}
		err = c.Post().NamespaceIfScoped(o.ns, o.ns != "").Resource(o.resource).Body(b).Do(ctx).Error()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating the %s: %w", o.resource, err)
		}
	}
	svc := plainService(routeBackend, routeBackend)
	_, err = h.Client.CoreV1().Services(e2eNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the routes' backend Service: %w", err)
	}
	return nil
}

// createRaw creates a rawObject with dryRun=All.
func (h *Harness) createRaw(ctx context.Context, obj rawObject) error {
	if h.gateway == nil {
		return fmt.Errorf("no Gateway API client (the CRDs were not installed)")
	}
	return h.gateway.Post().Namespace(e2eNamespace).Resource(obj.resource).
		Param("dryRun", "All").Param("fieldManager", "stickyguard-load").Body(obj.body).Do(ctx).Error()
}
