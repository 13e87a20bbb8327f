// Package engine runs stickyguard's rules on one object: it fetches the
// cross-object facts through a Lookup, applies the mutators the policy
// enables, then runs the validators on the mutated copy. The admission
// handlers, the offline `check` command and the live audit all call it, so
// every entry point gives the same answer for the same object.
//
// It does no HTTP and knows nothing of AdmissionReviews; a Lookup error is an
// infrastructure failure returned as an error, never a finding.
package engine
