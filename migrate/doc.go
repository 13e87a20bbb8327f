// Package migrate carries ingress-nginx sticky-session annotations to other
// targets (Gateway API route sessionPersistence, Envoy Gateway
// BackendTrafficPolicy, Istio DestinationRule, GKE GCPBackendPolicy, Traefik
// Service annotations) and says, per annotation and per object, what is kept
// exactly, what only approximately (and what changes for users) and what is
// lost (why, and the nearest workaround).
//
// It writes only the sticky part of the target configuration; with routes
// that another converter (ingress2gateway) wrote, it adds sessionPersistence
// to their matching rules instead. The mapping table (Table) is the one the
// migration applies and the one docs/migrate.md shows.
//
// What belongs here: the mapping, the generated objects and the report.
// Not here: reading files (cmd/stickyguard); rules that judge objects, and
// how ingress-nginx reads its annotations (validators: NginxAffinity,
// NginxLiteralPrefix, ... are what the NGX rules use, so a migration and
// `check` never disagree on what an Ingress does); the Gateway API bundle in
// the input (engine.InputBundle) and GEP-2257 durations (apis).
package migrate
