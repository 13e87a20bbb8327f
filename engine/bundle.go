package engine

import (
	"fmt"
	"strings"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
)

// The installed Gateway API bundle (apis.GatewayBundle) decides what a
// route's sessionPersistence may hold. Where it comes from, first found
// wins:
//
//  1. Options.Bundle: what the caller knows better than the objects
//     (`check --gateway-api`; the cluster's CRDs in the audit);
//  2. Lookup.GatewayBundle(): the Gateway API CRDs in the input of `check`
//     (Index.SetGatewayBundle), or in the cluster (serve);
//  3. the policy's cluster.gatewayAPI;
//  4. unknown: the version-dependent rules stay quiet.
//
// The flag wins over CRDs in the input because it is the one statement made
// for this run (checking manifests against an upgrade the repository's CRDs
// do not describe yet); `check` says on stderr when it overrides them.

// ParseGatewayAPI reads "VERSION[/CHANNEL]" (`check --gateway-api`):
// v1.6.3, v1.6.3/experimental, v1.7.0/standard.
func ParseGatewayAPI(s string) (apis.GatewayBundle, error) {
	version, channel, _ := strings.Cut(strings.TrimSpace(s), "/")
	if _, _, _, ok := apis.ParseBundleVersion(version); !ok {
		return apis.GatewayBundle{}, fmt.Errorf("want VERSION[/CHANNEL] with a release version like v1.6.3 (e.g. v1.6.3/experimental), got %q", s)
	}
	switch channel {
	case "", apis.ChannelStandard, apis.ChannelExperimental:
	default:
		return apis.GatewayBundle{}, fmt.Errorf("the channel must be standard or experimental, got %q", channel)
	}
	return apis.BundleFor(version, channel, "--gateway-api "+s), nil
}

// policyBundle is the policy's cluster.gatewayAPI, if it names anything.
func policyBundle(p *policy.Policy) apis.GatewayBundle {
	g := p.Cluster.GatewayAPI
	if g.Version == "" && g.Channel == "" {
		return apis.GatewayBundle{}
	}
	return apis.BundleFor(g.Version, g.Channel, "policy cluster.gatewayAPI")
}

// BundleFromCRD is what one Gateway API CRD says of its bundle
// ((*apis.CRD).Bundle: annotations, and the schema when it was read); where
// says where the CRD was read ("in the cluster", "in x.yaml#3"). ok is false
// for CRDs of other groups.
func BundleFromCRD(c *apis.CRD, where string) (b apis.GatewayBundle, ok bool) {
	if c == nil || (c.Spec.Group != apis.GroupGateway && c.Spec.Group != apis.GroupGatewayX) {
		return apis.GatewayBundle{}, false
	}
	b = c.Bundle()
	b.Source = "CRD " + c.Name + " " + where
	return b, true
}

// CRD names in the order a bundle is read from them: the HTTPRoute schema
// is what the route rules are about, then the GRPCRoute one.
const (
	CRDHTTPRoutes = "httproutes." + apis.GroupGateway
	CRDGRPCRoutes = "grpcroutes." + apis.GroupGateway
)

// CRDRank orders the CRDs a bundle is read from (lower first): HTTPRoutes,
// GRPCRoutes, then any other Gateway API CRD.
func CRDRank(name string) int {
	switch name {
	case CRDHTTPRoutes:
		return 0
	case CRDGRPCRoutes:
		return 1
	}
	return 2
}

// gatewayBundle is the bundle for one evaluation (see the order above).
func (o *Options) gatewayBundle() (apis.GatewayBundle, error) {
	if o.Bundle.Known() {
		return o.Bundle, nil
	}
	b, err := o.Lookup.GatewayBundle()
	if err != nil || b.Known() {
		return b, err
	}
	return policyBundle(o.Policy), nil
}
