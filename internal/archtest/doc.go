// Package archtest holds no code: its test enforces the import rules of the
// tree (docs/architecture.md). Arrows point down only:
//
//	cmd -> webhook -> core (engine, audit) -> validators, mutators -> internal/sticky, policy
//
// validators and mutators import neither webhook nor cmd, validators never
// import mutators (a rule judges, a default fills), and the core never imports
// the admission server.
package archtest
