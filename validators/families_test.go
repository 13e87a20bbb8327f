package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// kindsRun lists the kinds a family's runners check.
func kindsRun(rs ...runners) map[string]bool {
	m := map[string]bool{}
	for _, r := range rs {
		m[KindService] = m[KindService] || r.service != nil
		m[KindIngress] = m[KindIngress] || r.ingress != nil
		m[KindDeployment] = m[KindDeployment] || r.deployment != nil
		m[KindStatefulSet] = m[KindStatefulSet] || r.statefulSet != nil
		m[KindBackendConfig] = m[KindBackendConfig] || r.backendConfig != nil
		m[KindHTTPRoute] = m[KindHTTPRoute] || r.route != nil
		m[KindGRPCRoute] = m[KindGRPCRoute] || r.route != nil
		m[KindXBackendTrafficPolicy] = m[KindXBackendTrafficPolicy] || r.backendPolicy != nil
		m[KindBackendLBPolicy] = m[KindBackendLBPolicy] || r.backendPolicy != nil
		m[KindEnvoyBTP] = m[KindEnvoyBTP] || r.envoyPolicy != nil
		m[KindDestinationRule] = m[KindDestinationRule] || r.destRule != nil
		m[KindGCPBackendPolicy] = m[KindGCPBackendPolicy] || r.gcpPolicy != nil
	}
	return m
}

// TestFamiliesRunTheirRulesKinds: a rule documented for a kind belongs to a
// family whose table entry checks that kind, so docs/rules.md and the corpus
// (which read Rule.Kinds) describe what actually runs.
func TestFamiliesRunTheirRulesKinds(t *testing.T) {
	for _, fam := range families {
		run := kindsRun(fam.live, fam.offline)
		for _, r := range fam.rules {
			assert.NotEmpty(t, r.Kinds, r.ID)
			for _, k := range r.Kinds {
				assert.True(t, run[k], "%s is declared for %s but its family does not check %s", r.ID, k, k)
			}
		}
	}
}
