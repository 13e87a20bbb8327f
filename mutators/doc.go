// Package mutators holds stickyguard's default-filling functions: pure,
// idempotent, one file per family. Each takes the object (and the values it
// fills in), changes only fields that are missing, and returns whether it
// changed anything; applying a mutator twice changes nothing the second time.
//
// Deciding whether a default applies (cross-object facts, policy, opt-outs) is
// the engine's job (webhook/engine); mutators never look anything up, never
// touch status and never create or patch other objects.
package mutators
