package validators

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/internal/sticky"
)

func TestMetaRules(t *testing.T) {
	t.Run("SG-001 ignore without reason", func(t *testing.T) {
		for _, v := range []string{"", "  "} {
			e, w := validateServiceMeta(mkSvc(svcAnn(sticky.AnnIgnore, v)), nil, ctxFor(ControllerUnknown))
			assertFindings(t, e, w, []finding{deny("SG-001", "metadata.annotations[stickyguard.io/ignore]")}, nil)
			e, w = validateIngressMeta(mkIng(ingAnn(sticky.AnnIgnore, v)), nil, ctxFor(ControllerUnknown))
			assertFindings(t, e, w, []finding{deny("SG-001", "")}, nil)
		}
		e, w := validateServiceMeta(mkSvc(svcAnn(sticky.AnnIgnore, "ticket OPS-1")), nil, ctxFor(ControllerUnknown))
		assertFindings(t, e, w, nil, nil)
	})
	t.Run("SG-002 anti-affinity mode", func(t *testing.T) {
		withAnn := func(v string) *appsv1.Deployment {
			return mkDep(func(d *appsv1.Deployment) { d.Annotations = map[string]string{sticky.AnnAntiAffinity: v} })
		}
		e, w := validateDeploymentMeta(withAnn("Required"), nil, ctxFor(ControllerUnknown))
		assertFindings(t, e, w, []finding{deny("SG-002", "metadata.annotations[stickyguard.io/anti-affinity]")}, nil)
		for _, ok := range []string{"preferred", "required", "disabled"} {
			e, w = validateDeploymentMeta(withAnn(ok), nil, ctxFor(ControllerUnknown))
			assertFindings(t, e, w, nil, nil)
		}
		e, w = validateDeploymentMeta(mkDep(func(d *appsv1.Deployment) { d.Annotations = map[string]string{sticky.AnnIgnore: ""} }), nil, ctxFor(ControllerUnknown))
		assertFindings(t, e, w, []finding{deny("SG-001", "")}, nil)
	})
	t.Run("SG-003 keep-traffic-policy", func(t *testing.T) {
		e, w := validateServiceMeta(mkSvc(svcAnn(sticky.AnnKeepTrafficPolicy, "yes")), nil, ctxFor(ControllerUnknown))
		assertFindings(t, e, w, []finding{deny("SG-003", "metadata.annotations[stickyguard.io/keep-traffic-policy]")}, nil)
		e, w = validateServiceMeta(mkSvc(svcAnn(sticky.AnnKeepTrafficPolicy, "true")), nil, ctxFor(ControllerUnknown))
		assertFindings(t, e, w, nil, nil)
	})
	t.Run("SG-D01 decode error", func(t *testing.T) {
		err := DecodeError(errors.New(strings.Repeat("x", 1000)))
		assertFindings(t, field.ErrorList{err}, nil, []finding{deny("SG-D01", "(root)")}, nil)
		assert.Less(t, len(err.Detail), 500, "decode errors are clipped")
	})
}
