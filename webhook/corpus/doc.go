// Package corpus holds the tests that prove the shipped webhook
// configurations' matchConditions cannot bypass a rule, and that the
// offline `check` answers what the real API server and webhook answer.
//
// testdata/rules/<RULE-ID>[.<suffix>].yaml holds one failing example per live
// rule and admitted kind (see testdata/rules/README.md for the format). The
// tests check, for every file:
//
//   - the engine: the subject triggers the rule (so the corpus is honest), and
//     every live rule of the catalog has an example for each of its kinds;
//   - a real kube-apiserver (envtest) loaded with
//     manifests/base/webhook-configurations.yaml and a recording handler on
//     every registered path: the subject, created with server-side dry-run
//     in an enforce namespace after its context objects, reaches the
//     validating webhook (and the mutating one when the engine fills a
//     default), and the object the API server sent still triggers the rule.
//     Plain objects must not be sent.
//
// The rules of the families that judge Gateway API, Envoy Gateway, Istio
// and GKE Gateway objects run the same way on API servers with the real
// CRDs (hack/gateway-crds.sh; gateway_*_test.go), with the extra examples
// of testdata/gateway here: subjects with nothing sticky that still trigger
// a rule. parity_test.go compares `check` with the API server and
// `stickyguard serve` for every file of testdata/gateway and testdata/mesh
// on three Gateway API bundles.
//
// Only tests live here; nothing in the server imports this package.
package corpus
