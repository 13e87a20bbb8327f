// Package mutators holds stickyguard's default-filling functions: pure,
// idempotent, one file per family. Each takes the object (and the values it
// fills in), changes only fields that are missing, and returns whether it
// changed anything; applying a mutator twice changes nothing the second time.
//
// Whether a default applies (cross-object facts, policy overrides, opt-outs)
// is declared beside its rule in validators/ (validators.ServiceDefault,
// validators.WorkloadDefault); the engine pairs each declaration with its
// mutator here. Mutators never look anything up, never import the validators,
// never touch status and never create or patch other objects.
package mutators
