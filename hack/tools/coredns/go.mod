// Tools module: builds coredns v1.14.6 (the version kubeadm v1.37.1 deploys) for the kind node image (hack/kind).
module github.com/stickyguard/stickyguard/hack/tools/coredns

go 1.26.0

require github.com/coredns/coredns v1.14.6
