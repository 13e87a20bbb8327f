// Tools module: pins cert-manager so that the manifests tests can install its
// CRDs (deploy/crds in the module zip) into envtest. Nothing here is built.
module github.com/stickyguard/stickyguard/hack/tools/certmanager

go 1.26.0

require github.com/cert-manager/cert-manager v1.21.2
