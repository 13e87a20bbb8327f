// Package webhook is stickyguard's admission server: the one table that maps
// URL paths to handlers (paths.go), the HTTP side that reads AdmissionReviews
// (review.go, decode.go), the handlers that call the rule engine, the
// adapters that turn the engine's answers into responses (422 Invalid with
// one cause per field, JSON patches, warnings, audit annotations), the
// namespace opt-in modes, the cache-backed Lookup and what the cache keeps
// (lookup.go, lookup_index.go, cachestore.go), the cache of the Gateway API
// and mesh custom resources that exist only where their CRDs are installed
// (gatewaycache.go, gatewaykinds.go, lookup_gateway.go), the policy file
// watcher, metrics, and the manager wiring behind `stickyguard serve`.
//
// What does not belong here: rules (validators/), default-filling
// (mutators/), and the engine that runs them (engine/). Handlers never
// decide anything about an object themselves; they only translate.
package webhook
