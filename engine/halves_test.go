package engine

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

// TestHalvesReportDefaultsOnce: the mutating half and Evaluate report the
// default they fill as a warning; the validating half fills it too (its
// rules judge the stored object) but reports only rule findings, because
// the mutating half already told the user.
func TestHalvesReportDefaultsOnce(t *testing.T) {
	svc := lbService("web", map[string]string{ackPersistence: "1800"}, func(s *corev1.Service) {
		s.Spec.Selector = map[string]string{"app": "web"}
	})
	tests := []struct {
		name      string
		eval      func() (*Result, error)
		mutations bool
	}{
		{name: "Mutate", eval: func() (*Result, error) { return Mutate(svc, nil, Options{}) }, mutations: true},
		{name: "Evaluate", eval: func() (*Result, error) { return Evaluate(svc, nil, Options{}) }, mutations: true},
		{name: "Validate", eval: func() (*Result, error) { return Validate(svc, nil, Options{}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.eval()
			require.NoError(t, err)
			assert.Equal(t, corev1.ServiceExternalTrafficPolicyLocal, r.Object.(*corev1.Service).Spec.ExternalTrafficPolicy, "the default is filled in every half")
			assert.Equal(t, tt.mutations, len(r.Mutations) == 1, "%v", r.Mutations)
			assert.Equal(t, tt.mutations, warnedMessage(r, "SVC-005: set spec.externalTrafficPolicy=Local"), "%v", r.Warnings)
		})
	}
}

func warnedMessage(r *Result, prefix string) bool {
	for _, w := range r.Warnings {
		if strings.HasPrefix(w.Message(), prefix) {
			return true
		}
	}
	return false
}
