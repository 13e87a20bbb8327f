// Package e2e holds stickyguard's end-to-end scenarios. They run against
// any cluster named by a kubeconfig (build tag e2e):
//
//   - locally and in CI on a kwok cluster with the webhook as a local process
//     (hack/e2e-local.sh, `make test-e2e`);
//   - on kind with the image, cert-manager and manifests/overlays/cert-manager
//     (hack/e2e-kind.sh, `make test-e2e-kind`).
//
// The suite learns how to stop and start the webhook, rotate its certificate
// and change its policy from a control script (E2E_WEBHOOK_CTL with the
// subcommands stop, start, certs-rotate and policy FILE); each harness
// provides its own. The examples loader (examples.go) has no build tag and is
// unit-tested without a cluster.
package e2e
