// Package apis holds the parts of third-party custom resources that the
// rules read: Gateway API routes and policies, Envoy Gateway's
// BackendTrafficPolicy, Istio's DestinationRule and GKE's GCPBackendPolicy.
//
// The upstream Go modules are not dependencies: their shapes change between
// versions (Gateway API sessionPersistence changed shape at v1.7.0), and
// stickyguard must read every shape a cluster may hold. Each struct is the
// union of the fields of every version it reads, decoded leniently (unknown
// fields are ignored here; what the API server would prune or reject is a
// rule's business, decided with the installed bundle, see GatewayBundle).
//
// Every kind implements runtime.Object, so documents, the offline index and
// the engine handle it like a built-in kind.
package apis
