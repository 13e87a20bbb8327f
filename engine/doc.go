// Package engine is stickyguard's core: every entry point (the admission
// handlers in webhook/, the offline `stickyguard check`, the live audit in
// audit/) evaluates objects here, so every entry point gives the same answer
// for the same object. One evaluation reads the object (read.go and
// readdecode.go for manifests), fetches the cross-object facts through a
// Lookup (lookup.go; index.go and index_gateway.go for offline and audit
// sets; gateway.go and gatewayrefs.go relate Gateway API routes, their
// parents and policies; bundle.go says which Gateway API bundle applies),
// fills the defaults
// (defaults.go pairs each default declared in validators/ with its mutator),
// then runs the validators on the result and reports (report.go).
//
// It does no HTTP and knows nothing of AdmissionReviews; a Lookup error is an
// infrastructure failure returned as an error, never a finding. Rules live in
// validators/, default-filling in mutators/, the policy in policy/.
package engine
