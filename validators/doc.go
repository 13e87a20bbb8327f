// Package validators holds stickyguard's sticky-session rules: pure functions
// in the style of Kubernetes core validation, one file per rule family
// (service.go, ingress_nginx.go, provider_huawei.go, ...).
//
// A rule function takes the object, the old object (nil on create) and a
// *Context, and returns a field.ErrorList (deny findings) plus Warnings. Every
// finding carries its rule's stable ID (field.Error.Origin) and the rule's
// how-to-fix text. Rules never modify their input, never stop at the first
// finding, and do no I/O: cross-object facts arrive pre-fetched in
// Context.Related. The catalog of every rule (ID, severity, kinds, fix,
// source) is Catalog(); docs/rules.md is generated from it.
//
// Each default stickyguard fills is declared here, beside its rule
// (defaults.go: ServiceDefault, WorkloadDefault): the field it sets and the
// decision whether it applies. The engine pairs each declaration with its
// mutator; rules that judge the object as it will be stored ask the same
// decision (EffectiveLocal).
//
// What does not belong here: API calls, caches, HTTP, JSON patches (see
// webhook/), the filling itself (see mutators/, which this package never
// imports; what both need is in internal/sticky), and the evaluation order
// (see engine/).
package validators
