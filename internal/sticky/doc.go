// Package sticky holds the few facts that both halves of stickyguard need:
// the stickyguard.io/* annotation keys and the pod-spread predicate. The
// validators (which judge) and the mutators (which fill defaults) both import
// it, so neither has to import the other.
//
// Keep it small: no rules, no defaults, no policy, no I/O. A predicate that
// only the validators use belongs in validators/predicates.go.
package sticky
