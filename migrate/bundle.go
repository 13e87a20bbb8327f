package migrate

import (
	"fmt"
	"strings"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/engine"
)

// Gateway API versions the default shapes come from.
const (
	newestGatewayAPI = "v1.7.0" // newest release: cookie/header shape
	envoyGatewayAPI  = "v1.6.1" // what Envoy Gateway v1.9 installs (experimental)
)

// bundle is the Gateway API version whose sessionPersistence shape is
// written.
type bundle struct {
	shape    apis.PersistenceShape
	explicit bool // chosen by --gateway-api or read from the CRDs
	describe string
}

// chooseBundle picks the shape: --gateway-api, else the Gateway API CRDs in
// the input (read as check reads them: the HTTPRoute CRD first), else the
// target's default.
func chooseBundle(opts Options, docs []engine.Document) (bundle, error) {
	if opts.GatewayAPI != "" {
		shape, err := flagShape(opts.GatewayAPI)
		if err != nil {
			return bundle{}, err
		}
		return bundle{shape: shape, explicit: true, describe: opts.GatewayAPI + " " + shapeWords(shape) + ", from --gateway-api"}, nil
	}
	if b := engine.InputBundle(docs); b.Known() {
		shape := b.Shape
		if shape == apis.ShapeUnknown { // neither schema nor channel: the version's experimental shape
			if s, _, ok := apis.ExperimentalShape(b.Version); ok {
				shape = s
			} else {
				shape = apis.ShapeV2
			}
		}
		return bundle{shape: shape, explicit: true, describe: fmt.Sprintf("%s %s, %s channel, from the %s",
			orUnknown(b.Version), shapeWords(shape), orUnknown(b.Channel), b.Source)}, nil
	}
	if opts.Target == EnvoyGateway {
		return bundle{shape: apis.ShapeV1, describe: envoyGatewayAPI + " " + shapeWords(apis.ShapeV1) + ", the experimental CRDs Envoy Gateway v1.9 installs (default; --gateway-api to change)"}, nil
	}
	return bundle{shape: apis.ShapeV2, describe: newestGatewayAPI + " " + shapeWords(apis.ShapeV2) + ", the newest release (default; --gateway-api v1.6.3 for the older shape)"}, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func shapeWords(s apis.PersistenceShape) string {
	switch s {
	case apis.ShapeV1:
		return "(sessionName/cookieConfig shape)"
	case apis.ShapeNone:
		return "(no sessionPersistence: standard channel)"
	}
	return "(cookie/header shape)"
}

// flagShape is the shape of --gateway-api VERSION ("v1.6.3", "1.7"): the
// experimental channel's, the only one with sessionPersistence; releases
// after v1.7 get the newest shape.
func flagShape(version string) (apis.PersistenceShape, error) {
	v := "v" + strings.TrimPrefix(strings.TrimSpace(version), "v")
	if strings.Count(v, ".") == 1 {
		v += ".0" // v1.7 is v1.7.0
	}
	major, minor, _, ok := apis.ParseBundleVersion(v)
	switch {
	case !ok || major != 1:
		return "", fmt.Errorf("--gateway-api %q: want a version like v1.6.3 or v1.7", version)
	case minor < 1:
		return "", fmt.Errorf("--gateway-api %q: sessionPersistence exists from v1.1.0", version)
	}
	if s, _, ok := apis.ExperimentalShape(v); ok {
		return s, nil
	}
	return apis.ShapeV2, nil
}
