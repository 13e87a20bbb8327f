// Package chart renders charts/stickyguard with Helm's own library (chart
// loader, schema validation, template engine, hook sorting) and generates
// the chart's README from the values' comments. Its tests compare the
// rendered objects with the kustomize overlays in manifests/ field by field,
// prove what each documented value does, and run Helm's lint.
//
// This is its own Go module (hack/tools/helm) so that Helm's dependency tree
// stays out of the main go.mod. cmd/chart is the command line around it
// (render, docs, and the hook runner of the chart e2e).
package chart
