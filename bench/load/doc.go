// Command load measures what stickyguard adds to the write path, in three
// modes (each prints requests, errors, throughput, p50/p95/p99 and max):
//
//   - direct: AdmissionReview POSTs over TLS to a running `stickyguard serve`
//     with a realistic mix of objects, every response checked, side by side
//     with a minimal allow-all controller-runtime webhook (the floor).
//   - e2e: creates with dryRun=All through a local kube-apiserver, with no
//     webhook, with stickyguard's shipped configurations, with an equivalent
//     ValidatingAdmissionPolicy, and with the floor webhook (also filling
//     stickyguard's default, and behind a trivial matchCondition), interleaved
//     in rounds, as absolute numbers and ratios to the baseline and the floor.
//     -e2e-configs picks a subset, -e2e-classes the objects (Services,
//     Ingresses, Deployments, HTTPRoutes: the route classes install the
//     Gateway API experimental CRDs). Around every run it reads the API
//     server's /metrics and reports, per configuration and class, what
//     admission cost per object by the API server's own count: webhook
//     calls, matchCondition evaluations and their time, the webhook
//     plugins and the admission phases (apimetrics.go).
//   - scale: serve's resident memory and Deployment review latency with
//     10,000 Services, 5,000 Deployments and 2,000 Ingresses in its cache,
//     against an empty cluster.
//
// Everything it starts (etcd and kube-apiserver through envtest, serve, the
// floor webhook) listens on 127.0.0.1 and is stopped when it exits; every
// load loop is bounded by a duration and a request count, and the whole run
// by -timeout. bench/RESULTS.md shows how `make bench-report` runs it; the
// smoke test (load_test.go, in `make test`) runs each mode for a few seconds.
//
// The tool re-executes itself as the floor webhook (SGLOAD_ROLE=floor), so
// the floor runs in its own process like serve does.
package main
