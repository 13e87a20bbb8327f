package validators

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// warningBudget is the length the API server cuts each admission warning to
// once a response's warnings pass 4 KiB: the field path, the rule ID, what
// is wrong and the fix must all fit.
const warningBudget = 256

// renderedFinding is one finding as a user reads it: "<field>: <message>".
type renderedFinding struct{ rule, text string }

func renderFindings(errs field.ErrorList, warns Warnings) []renderedFinding {
	var out []renderedFinding
	for _, e := range errs {
		out = append(out, renderedFinding{e.Origin, e.Field + ": " + e.Detail})
	}
	for _, w := range warns {
		out = append(out, renderedFinding{w.Rule, w.String()})
	}
	return out
}

// budgetRules are the rule families this test covers (Service core,
// workloads, cloud providers).
func budgetRules() [][]*Rule {
	return [][]*Rule{serviceRules, deploymentRules, cceRules, ackRules, tkeRules, gkeRules, awsRules}
}

// TestMessageBudget renders every finding of the Service, workload and cloud
// provider families' test tables and checks each fits the warning budget;
// every rule of those families must have been rendered at least once.
func TestMessageBudget(t *testing.T) {
	seen := map[string]bool{}
	check := func(name string, errs field.ErrorList, warns Warnings) {
		t.Helper()
		for _, r := range renderFindings(errs, warns) {
			seen[r.rule] = true
			assert.LessOrEqual(t, len(r.text), warningBudget, "%s: %s (%d chars)", name, r.text, len(r.text))
		}
	}
	for _, c := range serviceCoreCases() {
		errs, warns := validateServiceCore(c.svc, c.old, c.ctx())
		check(c.name, errs, warns)
	}
	svcFamilies := []struct {
		fn    ServiceRuleFunc
		cases []svcCase
	}{
		{validateServiceAWS, awsServiceCases()},
		{validateServiceGKE, gkeServiceCases()},
		{validateServiceCCE, huaweiServiceCases()},
		{validateServiceACK, alibabaServiceCases()},
		{validateServiceTKE, tencentServiceCases()},
	}
	for _, fam := range svcFamilies {
		for _, c := range fam.cases {
			ctx := c.ctx
			if ctx == nil {
				ctx = ctxFor(ControllerUnknown)
			}
			errs, warns := fam.fn(c.svc, nil, ctx)
			check(c.name, errs, warns)
		}
	}
	ingFamilies := []struct {
		fn    IngressRuleFunc
		ctrl  Controller
		cases []ingCase
	}{
		{validateIngressAWS, ControllerAWS, awsIngressCases()},
		{validateIngressCCE, ControllerCCE, huaweiIngressCases()},
		{validateIngressGKE, ControllerGCE, gkeIngressCases()},
	}
	for _, fam := range ingFamilies {
		for _, c := range fam.cases {
			ctx := c.ctx
			if ctx == nil {
				ctx = ctxFor(fam.ctrl)
			}
			errs, warns := fam.fn(c.ing, nil, ctx)
			check(c.name, errs, warns)
		}
	}
	for _, c := range gkeBackendConfigCases() {
		errs, warns := validateBackendConfigGKE(c.bc, ctxFor(ControllerUnknown))
		check(c.name, errs, warns)
	}
	for _, c := range deploymentCases() {
		errs, warns := validateDeployment(c.dep, nil, c.ctx())
		check(c.name, errs, warns)
	}
	check("DEP-002", nil, Warnings{TemplateChangeWarning()})

	for _, rules := range budgetRules() {
		for _, r := range rules {
			if firedOutsideValidators[r.ID] {
				continue // the engine's tests render its mutation message
			}
			assert.True(t, seen[r.ID], "%s: no finding rendered from the test tables", r.ID)
		}
	}
}
