// Package audit checks the objects already stored in a cluster with the same
// rule engine the webhook and `stickyguard check` use: `stickyguard audit`
// and the periodic audit of `stickyguard serve` both call Run.
//
// An audit lists the Services, Ingresses, Deployments and StatefulSets of
// each namespace in pages (never one unbounded List call), plus the
// cluster's IngressClasses for class resolution (StatefulSets, like GKE
// BackendConfigs, are skipped with a warning where the caller may not list
// them). Where their CRDs are served it also lists the Gateway API and mesh
// custom resources of each namespace (HTTPRoutes, GRPCRoutes, backend
// policies, Envoy Gateway BackendTrafficPolicies, DestinationRules,
// GCPBackendPolicies), with the cluster's Gateways and GatewayClasses and
// the Gateway API bundle of its HTTPRoute CRD (custom.go); a kind that is
// not served is skipped with a note (Stats.Notes), never an error. It
// evaluates every object as stored: as if it were
// written again unchanged, with the cross-object rules resolved against the
// rest of its namespace as stored. The findings come back as engine.Checked,
// so callers print them in the shapes of `check`, or turn them into
// wgpolicyk8s.io/v1alpha2 PolicyReports (policyreport.go) and gauges
// (periodic.go).
//
// What does not belong here: rules (validators/), the engine (engine/),
// the admission server (webhook/), flag parsing and output formats
// (cmd/stickyguard). This package must not import webhook/: the server wires
// Periodic into its manager.
package audit
