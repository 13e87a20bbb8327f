package validators

import (
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/stickyguard/stickyguard/apis"
)

// Istio DestinationRule consistentHash, at each of its four positions, and
// the persistent-session Service labels (GATEWAY-FACTS §D), checked against
// istio/api v1.32.0 (destination_rule.proto, customresourcedefinitions.gen.yaml)
// and istio/istio (pkg/config/validation/validation.go validateLoadBalancer,
// pilot/pkg/networking/util/util.go, pilot/pkg/networking/core/route/route.go).

const (
	istioFamily = "Istio"

	// The Service labels istiod reads when PILOT_ENABLE_PERSISTENT_SESSION_FILTER
	// is true (PILOT_PERSISTENT_SESSION_LABEL, ..._HEADER_LABEL defaults).
	labelIstioSession       = "istio.io/persistent-session"
	labelIstioSessionHeader = "istio.io/persistent-session-header"

	istioMaxTableSize = 5000011
)

var (
	ist001 = &Rule{ID: "IST-001", Severity: Deny, Kinds: []string{KindDestinationRule}, Family: istioFamily, Offline: true,
		Title: "DestinationRule loadBalancer breaks the CRD schema or istiod's validation (oneOf fields, cookie name, maglev tableSize, minimumRingSize)",
		Fix:   "fix the field; the API server or istiod rejects it as written",
		Explain: "The CRD allows one of simple/consistentHash/backendUtilization, one hash key and one of ringHash/maglev. " +
			"istiod's validating webhook (a separate webhook, so this rule is offline only, like the CRD checks) also requires " +
			"httpCookie.name, non-empty and distinct cookie attribute names, no minimumRingSize beside ringHash/maglev, and a " +
			"maglev tableSize that is set, below 5000011 and prime (istiod's isPrime, copied from Envoy).",
		Source: "istio/api v1.32.0 customresourcedefinitions.gen.yaml; istio/istio pkg/config/validation/validation.go validateLoadBalancer"}
	ist002 = &Rule{ID: "IST-002", Severity: Warn, Kinds: []string{KindDestinationRule}, Family: istioFamily,
		Title: "consistentHash has no usable hash key: requests go to random hosts",
		Fix:   "set one of httpHeaderName, httpCookie, useSourceIp: true or httpQueryParameterName",
		Explain: "The CRD's oneOf allows a consistentHash with no key (or only ringHash/maglev). istiod then builds no route hash " +
			"policy (useSourceIp: false gives a source-IP policy that is off), and Envoy's ring-hash/Maglev balancer picks a " +
			"random host for a request without a hash.",
		Source: "istio/istio pilot/pkg/networking/core/route/route.go getHashPolicy; Envoy thread_aware_lb_impl.cc chooseHost"}
	ist003 = &Rule{ID: "IST-003", Severity: Warn, Kinds: []string{KindDestinationRule}, Family: istioFamily,
		Title: "httpCookie without ttl: no cookie is generated",
		Fix:   "set httpCookie.ttl (0s for a session cookie), or hash a cookie the app itself sets",
		Explain: "\"If specified, a cookie with the TTL will be generated if the cookie is not present.\" Without ttl a request " +
			"lacking the cookie has no hash and goes to a random host. Hashing an application's own session cookie " +
			"(JSESSIONID, PHPSESSID, ...) without ttl is the intended use and is not reported.",
		Source: "istio/api v1.32.0 networking/v1alpha3/destination_rule.proto HTTPCookie.ttl"}
	ist004 = &Rule{ID: "IST-004", Severity: Deny, Kinds: []string{KindDestinationRule}, Family: istioFamily, Offline: true,
		Title: "httpCookie.ttl is not a duration istiod can decode",
		Fix:   "write ttl as a Go duration such as 3600s, 1h or 0s",
		Explain: "The CRD declares ttl a plain string (duration-validation:none). istiod decodes it with the legacy jsonpb " +
			"(time.ParseDuration); its validating webhook answers \"error decoding configuration: ... bad Duration\". " +
			"That webhook rejects the object live, so this rule is offline only.",
		Source: "istio/istio pkg/webhooks/validation/server/server.go admitPilot (crd.ConvertObject); pkg/util/protomarshal; golang/protobuf jsonpb Duration"}
	ist005 = &Rule{ID: "IST-005", Severity: Warn, Kinds: []string{KindDestinationRule}, Family: istioFamily,
		Title:  "consistentHash.minimumRingSize is deprecated",
		Fix:    "move it to consistentHash.ringHash.minimumRingSize",
		Source: "istio/istio validateLoadBalancer: \"consistent hash MinimumRingSize is deprecated, use ConsistentHashLB's RingHash configuration instead\""}
	ist008 = &Rule{ID: "IST-008", Severity: Warn, Kinds: []string{KindDestinationRule}, Family: istioFamily,
		Title: "consistentHash together with locality load balancing",
		Fix:   "disable localityLbSetting here, or keep all callers in one locality",
		Explain: "destination_rule.proto: consistent hashing needs every proxy to see the same endpoints; with locality load " +
			"balancing each proxy ranks endpoints by its own locality, so one key maps to different hosts from different zones. " +
			"Reported when this loadBalancer enables localityLbSetting (enabled: true, or distribute/failover set).",
		Source: "istio/api v1.32.0 destination_rule.proto LoadBalancerSettings consistent hash warning"}
	ist010 = &Rule{ID: "IST-010", Severity: Warn, Kinds: []string{KindService}, Family: istioFamily,
		Title: "istio.io/persistent-session label without istiod's persistent-session filter",
		Fix:   "enable that istiod flag and set policy cluster.istio.persistentSessionFilter: true",
		Explain: "istiod builds the stateful_session filter from the Service labels only when the experimental " +
			"PILOT_ENABLE_PERSISTENT_SESSION_FILTER is true (default false); otherwise the label does nothing. The policy's " +
			"cluster.istio.persistentSessionFilter tells stickyguard the setting.",
		Source: "istio/istio pilot/pkg/features/experimental.go; pilot/pkg/networking/util/util.go MaybeBuildStatefulSessionFilterConfig"}
	ist011 = &Rule{ID: "IST-011", Severity: Warn, Kinds: []string{KindService}, Family: istioFamily,
		Title:  "both istio.io/persistent-session and istio.io/persistent-session-header are set: the cookie label wins",
		Fix:    "remove the label you do not want (the header label is ignored)",
		Source: "istio/istio pilot/pkg/networking/util/util.go MaybeBuildStatefulSessionFilterConfig (cookie case first)"}
	ist013 = &Rule{ID: "IST-013", Severity: Warn, Kinds: []string{KindDestinationRule}, Family: istioFamily,
		Title: "httpCookie with ttl on a cookie name a web framework uses for its own session",
		Fix:   "use a cookie name of its own, or drop ttl to hash the app's session cookie",
		Explain: "With ttl, Envoy sets the cookie itself (a hash of the client's address) when a request lacks it. If the " +
			"application sets a cookie of the same name, the two overwrite each other or both reach the app: the hash changes " +
			"after the first response, or the app reads Envoy's value as its session id.",
		Source: "Envoy router addDownstreamSetCookie; istio/api destination_rule.proto HTTPCookie.ttl"}
	ist014 = &Rule{ID: "IST-014", Severity: Warn, Kinds: []string{KindDestinationRule}, Family: istioFamily,
		Title: "a portLevelSettings entry without loadBalancer drops the consistentHash for that port",
		Fix:   "repeat the loadBalancer (consistentHash) in this port's settings",
		Explain: "Port-level settings do not inherit: a portLevelSettings entry replaces the whole policy for its port, so a " +
			"missing loadBalancer means the default balancer there. The same holds for a subset's portLevelSettings, which also " +
			"replace the subset's and the top level's loadBalancer.",
		Source: "istio/istio pilot/pkg/networking/util/util.go GetPortLevelTrafficPolicy, MergeSubsetTrafficPolicy; destination_rule.proto port_level_settings"}
	ist015 = &Rule{ID: "IST-015", Severity: Deny, Kinds: []string{KindService}, Family: istioFamily, Offline: true,
		Title: "persistent-session label value is not a valid label value (the name:path form needs ':' and '/')",
		Fix:   "use only the cookie name (path /), e.g. istio.io/persistent-session: sticky",
		Explain: "istiod parses the label as <cookie>[:<path>], but a Kubernetes label value allows only letters, digits, '-', " +
			"'_' and '.' (63 characters), so the API server rejects a value with a path; only the name form is usable.",
		Source: "k8s.io/apimachinery validation.IsValidLabelValue; istio/istio util.go MaybeBuildStatefulSessionFilterConfig"}
)

var istioRules = []*Rule{ist001, ist002, ist003, ist004, ist005, ist008, ist010, ist011, ist013, ist014, ist015}

// istioLB is one loadBalancer of a DestinationRule and its path.
type istioLB struct {
	lb   *apis.IstioLoadBalancer
	path *field.Path
}

// istioLoadBalancers returns the loadBalancers at the four positions:
// trafficPolicy, its portLevelSettings, and the same in every subset.
func istioLoadBalancers(d *apis.DestinationRule) []istioLB {
	var out []istioLB
	add := func(tp *apis.TrafficPolicy, p *field.Path) {
		if tp == nil {
			return
		}
		if tp.LoadBalancer != nil {
			out = append(out, istioLB{tp.LoadBalancer, p.Child("loadBalancer")})
		}
		for i := range tp.PortLevelSettings {
			if lb := tp.PortLevelSettings[i].LoadBalancer; lb != nil {
				out = append(out, istioLB{lb, p.Child("portLevelSettings").Index(i).Child("loadBalancer")})
			}
		}
	}
	add(d.Spec.TrafficPolicy, field.NewPath("spec", "trafficPolicy"))
	for i := range d.Spec.Subsets {
		add(d.Spec.Subsets[i].TrafficPolicy, field.NewPath("spec", "subsets").Index(i).Child("trafficPolicy"))
	}
	return out
}

func validateDestinationRule(d, _ *apis.DestinationRule, ctx *Context) (field.ErrorList, Warnings) {
	var f findings
	for _, l := range istioLoadBalancers(d) {
		if ctx.Offline {
			istioLBSchema(&f, l.lb, l.path)
		}
		ch := l.lb.ConsistentHash
		if ch == nil {
			continue
		}
		p := l.path.Child("consistentHash")
		istioHashKey(&f, ch, p)
		if c := ch.HTTPCookie; c != nil {
			istioCookie(&f, c, p.Child("httpCookie"), ctx.Offline)
		}
		if ch.MinimumRingSize != nil && *ch.MinimumRingSize != 0 {
			f.warn(ist005, p.Child("minimumRingSize"), nil, "")
		}
		if istioLocalityOn(l.lb.LocalityLbSetting) {
			f.warn(ist008, l.path.Child("localityLbSetting"), nil, "locality load balancing gives each zone its own view of endpoints, so one key maps to different hosts")
		}
	}
	istioPortDrops(&f, d)
	return f.result()
}

// istioHashKey reports a consistentHash that hashes nothing (IST-002).
func istioHashKey(f *findings, ch *apis.IstioConsistentHash, p *field.Path) {
	switch {
	case ch.HTTPHeaderName != nil:
		if *ch.HTTPHeaderName == "" {
			f.warn(ist002, p.Child("httpHeaderName"), nil, "httpHeaderName is empty: nothing is hashed")
		}
	case ch.HTTPQueryParameterName != nil:
		if *ch.HTTPQueryParameterName == "" {
			f.warn(ist002, p.Child("httpQueryParameterName"), nil, "httpQueryParameterName is empty: nothing is hashed")
		}
	case ch.HTTPCookie != nil:
	case ch.UseSourceIP != nil && *ch.UseSourceIP:
	case ch.UseSourceIP != nil:
		f.warn(ist002, p.Child("useSourceIp"), nil, "useSourceIp: false hashes nothing; requests go to random hosts")
	default:
		f.warn(ist002, p, nil, "no hash key: requests go to random hosts")
	}
}

func istioCookie(f *findings, c *apis.IstioCookie, p *field.Path, offline bool) {
	name := strconv.Quote(clipTo(c.Name, 24))
	switch {
	case c.TTL == nil && c.Name != "" && !appSessionCookie(c.Name):
		f.warn(ist003, p, nil, "no ttl: no cookie is generated, so requests without cookie "+name+" reach a random host")
	case c.TTL != nil && appSessionCookie(c.Name):
		f.warn(ist013, p.Child("name"), nil, name+" is an app session cookie; with ttl Envoy also sets it, and the two collide")
	}
	if offline && c.TTL != nil {
		if _, err := time.ParseDuration(*c.TTL); err != nil {
			f.invalid(ist004, p.Child("ttl"), clipValue(*c.TTL), "not a Go duration: istiod's webhook rejects it")
		}
	}
}

// istioLocalityOn reports a localityLbSetting this loadBalancer turns on.
func istioLocalityOn(l *apis.LocalityLbSetting) bool {
	if l == nil {
		return false
	}
	if l.Enabled != nil {
		return *l.Enabled
	}
	return len(l.Distribute) > 0 || len(l.Failover) > 0 || len(l.FailoverPriority) > 0
}

// istioLBSchema reports what the CRD's oneOf rules and istiod's
// validateLoadBalancer reject (IST-001, offline only).
func istioLBSchema(f *findings, lb *apis.IstioLoadBalancer, p *field.Path) {
	if n := countSet(lb.Simple != nil, lb.ConsistentHash != nil, lb.BackendUtilization != nil); n > 1 {
		f.forbidden(ist001, p, "set only one of simple, consistentHash, backendUtilization (the CRD's oneOf)")
	}
	ch := lb.ConsistentHash
	if ch == nil {
		return
	}
	cp := p.Child("consistentHash")
	if countSet(ch.HTTPHeaderName != nil, ch.HTTPCookie != nil, ch.UseSourceIP != nil, ch.HTTPQueryParameterName != nil) > 1 {
		f.forbidden(ist001, cp, "set only one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName (the CRD's oneOf)")
	}
	if ch.RingHash != nil && ch.Maglev != nil {
		f.forbidden(ist001, cp, "set only one of ringHash, maglev (the CRD's oneOf)")
	}
	if c := ch.HTTPCookie; c != nil {
		istioCookieSchema(f, c, cp.Child("httpCookie"))
	}
	if ch.MinimumRingSize != nil && *ch.MinimumRingSize != 0 && (ch.RingHash != nil || ch.Maglev != nil) {
		f.invalid(ist001, cp.Child("minimumRingSize"), *ch.MinimumRingSize, "only one of MinimumRingSize or Maglev/Ringhash can be specified")
	}
	if m := ch.Maglev; m != nil {
		tp := cp.Child("maglev", "tableSize")
		switch ts := m.TableSize; {
		case ts == nil || *ts == 0:
			f.required(ist001, tp, "tableSize must be set for maglev")
		case *ts >= istioMaxTableSize:
			f.invalid(ist001, tp, *ts, "tableSize must be less than 5000011 for maglev")
		case !istioPrime(*ts):
			f.invalid(ist001, tp, *ts, "tableSize must be a prime number for maglev")
		}
	}
}

func istioCookieSchema(f *findings, c *apis.IstioCookie, p *field.Path) {
	if c.Name == "" {
		f.required(ist001, p.Child("name"), "name required for HttpCookie")
	}
	seen := map[string]bool{}
	for i, a := range c.Attributes {
		ap := p.Child("attributes").Index(i).Child("name")
		switch {
		case a.Name == "":
			f.required(ist001, ap, "cookie attribute name cannot be empty")
		case seen[a.Name]:
			f.invalid(ist001, ap, clipValue(a.Name), "duplicate cookie attribute name")
		}
		seen[a.Name] = true
	}
}

func countSet(set ...bool) int {
	n := 0
	for _, s := range set {
		if s {
			n++
		}
	}
	return n
}

// istioPrime is istiod's isPrime (copied from Envoy): 1, 2 and 3 count as
// prime, 0 does not.
func istioPrime(x uint64) bool {
	if x != 0 && x < 4 {
		return true
	}
	if x&1 == 0 {
		return false
	}
	for d := uint64(3); d*d <= x; d += 2 {
		if x%d == 0 {
			return false
		}
	}
	return true
}

// istioPortDrops reports portLevelSettings entries without a loadBalancer
// where a consistentHash would otherwise apply to the port (IST-014). Only
// the first entry for a port number counts, as in GetPortLevelTrafficPolicy.
func istioPortDrops(f *findings, d *apis.DestinationRule) {
	top := d.Spec.TrafficPolicy
	topHash := func(port uint32) *apis.IstioConsistentHash {
		if top == nil {
			return nil
		}
		if pl := firstPort(top.PortLevelSettings, port); pl != nil {
			return lbHash(pl.LoadBalancer)
		}
		return lbHash(top.LoadBalancer)
	}
	if top != nil {
		istioPortDropsIn(f, top, field.NewPath("spec", "trafficPolicy"), func(uint32) *apis.IstioConsistentHash {
			return lbHash(top.LoadBalancer)
		})
	}
	for j := range d.Spec.Subsets {
		tp := d.Spec.Subsets[j].TrafficPolicy
		if tp == nil {
			continue
		}
		inherited := topHash
		if tp.LoadBalancer != nil {
			inherited = func(uint32) *apis.IstioConsistentHash { return lbHash(tp.LoadBalancer) }
		}
		istioPortDropsIn(f, tp, field.NewPath("spec", "subsets").Index(j).Child("trafficPolicy"), inherited)
	}
}

func istioPortDropsIn(f *findings, tp *apis.TrafficPolicy, p *field.Path, inherited func(port uint32) *apis.IstioConsistentHash) {
	for i, pl := range tp.PortLevelSettings {
		if pl.Port == nil || pl.LoadBalancer != nil || firstPort(tp.PortLevelSettings, pl.Port.Number) != &tp.PortLevelSettings[i] {
			continue
		}
		if inherited(pl.Port.Number) != nil {
			f.warn(ist014, p.Child("portLevelSettings").Index(i), nil,
				"port "+strconv.Itoa(int(pl.Port.Number))+" has no loadBalancer, so it uses the default balancer, not the consistentHash (no inheritance)")
		}
	}
}

func firstPort(pls []apis.PortTrafficPolicy, port uint32) *apis.PortTrafficPolicy {
	for i := range pls {
		if pls[i].Port != nil && pls[i].Port.Number == port {
			return &pls[i]
		}
	}
	return nil
}

func lbHash(lb *apis.IstioLoadBalancer) *apis.IstioConsistentHash {
	if lb == nil {
		return nil
	}
	return lb.ConsistentHash
}

// validateServiceIstio checks the persistent-session labels istiod reads on
// a Service (IST-010, IST-011, IST-015).
func validateServiceIstio(svc, _ *corev1.Service, ctx *Context) (field.ErrorList, Warnings) {
	cookie, hasCookie := svc.Labels[labelIstioSession]
	header, hasHeader := svc.Labels[labelIstioSessionHeader]
	if !hasCookie && !hasHeader {
		return nil, nil
	}
	var f findings
	if ctx.Offline {
		for _, kv := range [][2]string{{labelIstioSession, cookie}, {labelIstioSessionHeader, header}} {
			if _, set := svc.Labels[kv[0]]; set && len(validation.IsValidLabelValue(kv[1])) > 0 {
				f.invalid(ist015, labelPath(kv[0]), clipValue(kv[1]), "the API server rejects this label value (letters, digits, '-', '_', '.' only)")
			}
		}
	}
	if cookie != "" && header != "" {
		f.warn(ist011, labelPath(labelIstioSessionHeader), nil, "istiod uses the cookie label and ignores this one")
	}
	if cookie == "" && header == "" {
		return f.result() // empty values: istiod builds no filter either way
	}
	key := labelIstioSession
	if cookie == "" {
		key = labelIstioSessionHeader
	}
	if pf := ctx.Policy.Cluster.Istio.PersistentSessionFilter; pf == nil || !*pf {
		what := "istiod ignores it unless PILOT_ENABLE_PERSISTENT_SESSION_FILTER=true (off by default)"
		if pf != nil {
			what = "istiod ignores it: the policy says PILOT_ENABLE_PERSISTENT_SESSION_FILTER is off"
		}
		f.warn(ist010, labelPath(key), nil, what)
	}
	return f.result()
}
