// Tools module: pins cert-manager (version here, checksum in go.sum) so that
// manifests/certmanager_crds_test.go can install its CRDs (deploy/crds of the
// module zip, via `go mod download -json`) into envtest. Nothing is built or
// imported, so `go mod tidy` would drop the requirement: edit by hand
// (`go get github.com/cert-manager/cert-manager@vX.Y.Z` updates both files).
module github.com/stickyguard/stickyguard/hack/tools/certmanager

go 1.26.0

require github.com/cert-manager/cert-manager v1.21.2
