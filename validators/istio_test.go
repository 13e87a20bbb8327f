package validators

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"sigs.k8s.io/yaml"

	"github.com/stickyguard/stickyguard/apis"
	"github.com/stickyguard/stickyguard/policy"
)

// cookieLB is a loadBalancer hashing cookie name (ttl nil: none).
func cookieLB(name string, ttl *string) *apis.IstioLoadBalancer {
	return &apis.IstioLoadBalancer{ConsistentHash: &apis.IstioConsistentHash{HTTPCookie: &apis.IstioCookie{Name: name, TTL: ttl}}}
}

func withHash(lb *apis.IstioLoadBalancer, mut func(*apis.IstioConsistentHash)) *apis.IstioLoadBalancer {
	mut(lb.ConsistentHash)
	return lb
}

func simpleLB() *apis.IstioLoadBalancer {
	return &apis.IstioLoadBalancer{Simple: ptrTo("LEAST_REQUEST")}
}

func port(n uint32, lb *apis.IstioLoadBalancer) apis.PortTrafficPolicy {
	return apis.PortTrafficPolicy{Port: &apis.PortSelector{Number: n}, LoadBalancer: lb}
}

// mkDR builds DestinationRule shop/web for web.shop.svc.cluster.local.
func mkDR(tp *apis.TrafficPolicy, subsets ...apis.Subset) *apis.DestinationRule {
	return &apis.DestinationRule{
		TypeMeta:   metav1.TypeMeta{APIVersion: apis.GroupIstio + "/v1", Kind: apis.KindDestinationRule},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec:       apis.DestinationRuleSpec{Host: "web.shop.svc.cluster.local", TrafficPolicy: tp, Subsets: subsets},
	}
}

func subset(name string, tp *apis.TrafficPolicy) apis.Subset {
	return apis.Subset{Name: name, Labels: map[string]string{"version": name}, TrafficPolicy: tp}
}

// drAt puts lb at one of the four positions and returns the DR and the
// loadBalancer's path.
type drPosition struct {
	name string
	mk   func(lb *apis.IstioLoadBalancer) *apis.DestinationRule
	path string
}

var drPositions = []drPosition{
	{"top level", func(lb *apis.IstioLoadBalancer) *apis.DestinationRule {
		return mkDR(&apis.TrafficPolicy{LoadBalancer: lb})
	}, "spec.trafficPolicy.loadBalancer"},
	{"port level", func(lb *apis.IstioLoadBalancer) *apis.DestinationRule {
		return mkDR(&apis.TrafficPolicy{PortLevelSettings: []apis.PortTrafficPolicy{port(80, simpleLB()), port(8080, lb)}})
	}, "spec.trafficPolicy.portLevelSettings[1].loadBalancer"},
	{"subset", func(lb *apis.IstioLoadBalancer) *apis.DestinationRule {
		return mkDR(nil, subset("v1", nil), subset("v2", &apis.TrafficPolicy{LoadBalancer: lb}))
	}, "spec.subsets[1].trafficPolicy.loadBalancer"},
	{"subset port level", func(lb *apis.IstioLoadBalancer) *apis.DestinationRule {
		return mkDR(nil, subset("v1", &apis.TrafficPolicy{PortLevelSettings: []apis.PortTrafficPolicy{port(8080, lb)}}))
	}, "spec.subsets[0].trafficPolicy.portLevelSettings[0].loadBalancer"},
}

func drCtx(offline bool) *Context {
	c := ctxFor(ControllerUnknown)
	c.Offline = offline
	return c
}

// lbCase is a loadBalancer checked at every position: findings are given
// relative to the loadBalancer's path.
type lbCase struct {
	name     string
	lb       func() *apis.IstioLoadBalancer
	offline  bool
	wantDeny []finding
	wantWarn []finding
}

func TestIstioLoadBalancerAtEveryPosition(t *testing.T) {
	cases := []lbCase{
		{name: "cookie with ttl", lb: func() *apis.IstioLoadBalancer { return cookieLB("route", ptrTo("3600s")) }},
		{name: "valid offline", offline: true, lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("1h30m")), func(ch *apis.IstioConsistentHash) { ch.Maglev = &apis.IstioMaglev{TableSize: ptrTo(uint64(65537))} })
		}},
		{name: "IST-002 empty consistentHash", lb: func() *apis.IstioLoadBalancer {
			return &apis.IstioLoadBalancer{ConsistentHash: &apis.IstioConsistentHash{}}
		}, wantWarn: []finding{warn("IST-002", ".consistentHash")}},
		{name: "IST-002 only maglev", lb: func() *apis.IstioLoadBalancer {
			return &apis.IstioLoadBalancer{ConsistentHash: &apis.IstioConsistentHash{Maglev: &apis.IstioMaglev{TableSize: ptrTo(uint64(65537))}}}
		}, wantWarn: []finding{warn("IST-002", ".consistentHash")}},
		{name: "IST-002 useSourceIp false", lb: func() *apis.IstioLoadBalancer {
			return &apis.IstioLoadBalancer{ConsistentHash: &apis.IstioConsistentHash{UseSourceIP: ptrTo(false)}}
		}, wantWarn: []finding{warn("IST-002", ".consistentHash.useSourceIp")}},
		{name: "IST-002 empty header name", lb: func() *apis.IstioLoadBalancer {
			return &apis.IstioLoadBalancer{ConsistentHash: &apis.IstioConsistentHash{HTTPHeaderName: ptrTo("")}}
		}, wantWarn: []finding{warn("IST-002", ".consistentHash.httpHeaderName")}},
		{name: "IST-002 useSourceIp true", lb: func() *apis.IstioLoadBalancer {
			return &apis.IstioLoadBalancer{ConsistentHash: &apis.IstioConsistentHash{UseSourceIP: ptrTo(true)}}
		}},
		{name: "IST-003 cookie without ttl", lb: func() *apis.IstioLoadBalancer { return cookieLB("route", nil) },
			wantWarn: []finding{warn("IST-003", ".consistentHash.httpCookie")}},
		{name: "IST-003 hashing the app's PHPSESSID without ttl", lb: func() *apis.IstioLoadBalancer { return cookieLB("PHPSESSID", nil) }},
		{name: "IST-003 ttl 0s", lb: func() *apis.IstioLoadBalancer { return cookieLB("route", ptrTo("0s")) }},
		{name: "IST-013 app session cookie with ttl", lb: func() *apis.IstioLoadBalancer { return cookieLB("jsessionid", ptrTo("0s")) },
			wantWarn: []finding{warn("IST-013", ".consistentHash.httpCookie.name")}},
		{name: "IST-004 ttl in days, offline", offline: true, lb: func() *apis.IstioLoadBalancer { return cookieLB("route", ptrTo("2d")) },
			wantDeny: []finding{deny("IST-004", ".consistentHash.httpCookie.ttl")}},
		{name: "IST-004 ttl without unit, offline", offline: true, lb: func() *apis.IstioLoadBalancer { return cookieLB("route", ptrTo("3600")) },
			wantDeny: []finding{deny("IST-004", ".consistentHash.httpCookie.ttl")}},
		{name: "IST-004 is offline only", lb: func() *apis.IstioLoadBalancer { return cookieLB("route", ptrTo("2d")) }},
		{name: "IST-005 minimumRingSize", lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) { ch.MinimumRingSize = ptrTo(uint64(1024)) })
		}, wantWarn: []finding{warn("IST-005", ".consistentHash.minimumRingSize")}},
		{name: "IST-008 locality enabled", lb: func() *apis.IstioLoadBalancer {
			lb := cookieLB("route", ptrTo("0s"))
			lb.LocalityLbSetting = &apis.LocalityLbSetting{Enabled: ptrTo(true)}
			return lb
		}, wantWarn: []finding{warn("IST-008", ".localityLbSetting")}},
		{name: "IST-008 failover without enabled", lb: func() *apis.IstioLoadBalancer {
			lb := cookieLB("route", ptrTo("0s"))
			lb.LocalityLbSetting = &apis.LocalityLbSetting{Failover: []map[string]any{{"from": "us-east", "to": "us-west"}}}
			return lb
		}, wantWarn: []finding{warn("IST-008", ".localityLbSetting")}},
		{name: "IST-008 locality disabled", lb: func() *apis.IstioLoadBalancer {
			lb := cookieLB("route", ptrTo("0s"))
			lb.LocalityLbSetting = &apis.LocalityLbSetting{Enabled: ptrTo(false), Distribute: []map[string]any{{"from": "*"}}}
			return lb
		}},
		{name: "IST-008 locality without hashing", lb: func() *apis.IstioLoadBalancer {
			lb := simpleLB()
			lb.LocalityLbSetting = &apis.LocalityLbSetting{Enabled: ptrTo(true)}
			return lb
		}},
		{name: "IST-001 two hash keys and two algorithms", offline: true, lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) {
				ch.UseSourceIP = ptrTo(true)
				ch.RingHash = json.RawMessage(`{}`)
				ch.Maglev = &apis.IstioMaglev{TableSize: ptrTo(uint64(65537))}
			})
		}, wantDeny: []finding{deny("IST-001", ".consistentHash"), deny("IST-001", ".consistentHash")}},
		{name: "IST-001 simple and consistentHash", offline: true, lb: func() *apis.IstioLoadBalancer {
			lb := cookieLB("route", ptrTo("0s"))
			lb.Simple = ptrTo("ROUND_ROBIN")
			return lb
		}, wantDeny: []finding{deny("IST-001", "")}},
		{name: "IST-001 maglev tableSize rules", offline: true, lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) { ch.Maglev = &apis.IstioMaglev{} })
		}, wantDeny: []finding{deny("IST-001", ".consistentHash.maglev.tableSize")}},
		{name: "IST-001 maglev tableSize not prime", offline: true, lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) { ch.Maglev = &apis.IstioMaglev{TableSize: ptrTo(uint64(65536))} })
		}, wantDeny: []finding{deny("IST-001", ".consistentHash.maglev.tableSize")}},
		{name: "IST-001 maglev tableSize too large", offline: true, lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) { ch.Maglev = &apis.IstioMaglev{TableSize: ptrTo(uint64(5000011))} })
		}, wantDeny: []finding{deny("IST-001", ".consistentHash.maglev.tableSize")}},
		{name: "IST-001 minimumRingSize beside ringHash", offline: true, lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) {
				ch.MinimumRingSize, ch.RingHash = ptrTo(uint64(1024)), json.RawMessage(`{"minimumRingSize":2048}`)
			})
		}, wantDeny: []finding{deny("IST-001", ".consistentHash.minimumRingSize")}, wantWarn: []finding{warn("IST-005", ".consistentHash.minimumRingSize")}},
		{name: "IST-001 cookie name and attribute names", offline: true, lb: func() *apis.IstioLoadBalancer {
			lb := cookieLB("", ptrTo("0s"))
			lb.ConsistentHash.HTTPCookie.Attributes = []apis.IstioCookieAttribute{{Name: "Secure"}, {Name: ""}, {Name: "Secure"}}
			return lb
		}, wantDeny: []finding{deny("IST-001", ".consistentHash.httpCookie.name"),
			deny("IST-001", ".consistentHash.httpCookie.attributes[1].name"), deny("IST-001", ".consistentHash.httpCookie.attributes[2].name")}},
		{name: "IST-001 is offline only", lb: func() *apis.IstioLoadBalancer {
			return withHash(cookieLB("route", ptrTo("0s")), func(ch *apis.IstioConsistentHash) { ch.Maglev = &apis.IstioMaglev{TableSize: ptrTo(uint64(10))} })
		}},
	}
	for _, pos := range drPositions {
		for _, tt := range cases {
			t.Run(pos.name+"/"+tt.name, func(t *testing.T) {
				d := pos.mk(tt.lb())
				before := d.DeepCopyObject()
				errs, warns := validateDestinationRule(d, nil, drCtx(tt.offline))
				abs := func(fs []finding) []finding {
					out := make([]finding, len(fs))
					for i, f := range fs {
						out[i] = finding{f.Rule, pos.path + f.Field}
					}
					return out
				}
				assertFindings(t, errs, warns, abs(tt.wantDeny), abs(tt.wantWarn))
				assert.Equal(t, before, d, "input modified")
			})
		}
	}
}

func TestIstioPortLevelDoesNotInherit(t *testing.T) {
	hash := func() *apis.IstioLoadBalancer { return cookieLB("route", ptrTo("0s")) }
	noLB := func(n uint32) apis.PortTrafficPolicy {
		return apis.PortTrafficPolicy{Port: &apis.PortSelector{Number: n}, ConnectionPool: map[string]any{"tcp": map[string]any{"maxConnections": 100}}}
	}
	cases := []struct {
		name     string
		d        *apis.DestinationRule
		wantWarn []finding
	}{
		{name: "IST-014 top-level hash, port entry without loadBalancer",
			d:        mkDR(&apis.TrafficPolicy{LoadBalancer: hash(), PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080)}}),
			wantWarn: []finding{warn("IST-014", "spec.trafficPolicy.portLevelSettings[0]")}},
		{name: "IST-014 port entry with its own loadBalancer",
			d: mkDR(&apis.TrafficPolicy{LoadBalancer: hash(), PortLevelSettings: []apis.PortTrafficPolicy{port(8080, simpleLB())}})},
		{name: "IST-014 no hash at the top",
			d: mkDR(&apis.TrafficPolicy{LoadBalancer: simpleLB(), PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080)}})},
		{name: "IST-014 only the first entry of a port counts",
			d:        mkDR(&apis.TrafficPolicy{LoadBalancer: hash(), PortLevelSettings: []apis.PortTrafficPolicy{port(8080, hash()), noLB(8080), noLB(9090)}}),
			wantWarn: []finding{warn("IST-014", "spec.trafficPolicy.portLevelSettings[2]")}},
		{name: "IST-014 subset port entry drops the subset's hash",
			d:        mkDR(nil, subset("v1", &apis.TrafficPolicy{LoadBalancer: hash(), PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080)}})),
			wantWarn: []finding{warn("IST-014", "spec.subsets[0].trafficPolicy.portLevelSettings[0]")}},
		{name: "IST-014 subset port entry drops the inherited top-level hash",
			d: mkDR(&apis.TrafficPolicy{LoadBalancer: hash()},
				subset("v1", nil), subset("v2", &apis.TrafficPolicy{PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080)}})),
			wantWarn: []finding{warn("IST-014", "spec.subsets[1].trafficPolicy.portLevelSettings[0]")}},
		{name: "IST-014 subset port entry drops the top-level port hash",
			d: mkDR(&apis.TrafficPolicy{PortLevelSettings: []apis.PortTrafficPolicy{port(8080, hash())}},
				subset("v1", &apis.TrafficPolicy{PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080), noLB(9090)}})),
			wantWarn: []finding{warn("IST-014", "spec.subsets[0].trafficPolicy.portLevelSettings[0]")}},
		{name: "IST-014 subset's simple loadBalancer replaces the top-level hash",
			d: mkDR(&apis.TrafficPolicy{LoadBalancer: hash()},
				subset("v1", &apis.TrafficPolicy{LoadBalancer: simpleLB(), PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080)}}))},
		{name: "IST-014 top-level port entry without loadBalancer reaches subsets once",
			d:        mkDR(&apis.TrafficPolicy{LoadBalancer: hash(), PortLevelSettings: []apis.PortTrafficPolicy{noLB(8080)}}, subset("v1", nil)),
			wantWarn: []finding{warn("IST-014", "spec.trafficPolicy.portLevelSettings[0]")}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			errs, warns := validateDestinationRule(tt.d, nil, drCtx(false))
			assertFindings(t, errs, warns, nil, tt.wantWarn)
		})
	}
}

func TestIstioPrimeMatchesIstiod(t *testing.T) {
	for n, want := range map[uint64]bool{0: false, 1: true, 2: true, 3: true, 4: false, 9: false, 65537: true, 4999999: true, 1000001: false} {
		assert.Equal(t, want, istioPrime(n), "%d", n)
	}
}

func istioSvcCtx(offline bool, filter *bool) *Context {
	c := drCtx(offline)
	c.Policy = policy.Default()
	c.Policy.Cluster.Istio.PersistentSessionFilter = filter
	return c
}

func svcLabels(kv ...string) svcOpt {
	return func(s *corev1.Service) {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			s.Labels[kv[i]] = kv[i+1]
		}
	}
}

func TestIstioServiceLabels(t *testing.T) {
	on, off := ptrTo(true), ptrTo(false)
	cookie, header := labelPath(labelIstioSession).String(), labelPath(labelIstioSessionHeader).String()
	runSvcCases(t, validateServiceIstio, []svcCase{
		{name: "no labels", svc: mkSvc()},
		{name: "cookie label with the filter on", svc: mkSvc(svcLabels(labelIstioSession, "sticky")), ctx: istioSvcCtx(false, on)},
		{name: "IST-010 filter unknown", svc: mkSvc(svcLabels(labelIstioSession, "sticky")), ctx: istioSvcCtx(false, nil),
			wantWarn: []finding{warn("IST-010", cookie)}},
		{name: "IST-010 filter off", svc: mkSvc(svcLabels(labelIstioSessionHeader, "x-session")), ctx: istioSvcCtx(false, off),
			wantWarn: []finding{warn("IST-010", header)}},
		{name: "IST-010 empty values build no filter", svc: mkSvc(svcLabels(labelIstioSession, "")), ctx: istioSvcCtx(false, nil)},
		{name: "IST-011 both labels", svc: mkSvc(svcLabels(labelIstioSession, "sticky", labelIstioSessionHeader, "x-session")), ctx: istioSvcCtx(false, on),
			wantWarn: []finding{warn("IST-011", header)}},
		{name: "IST-011 empty cookie label: the header one works", svc: mkSvc(svcLabels(labelIstioSession, "", labelIstioSessionHeader, "x-session")),
			ctx: istioSvcCtx(false, on)},
		{name: "IST-015 name:path form, offline", svc: mkSvc(svcLabels(labelIstioSession, "sticky:/shop")), ctx: istioSvcCtx(true, on),
			wantDeny: []finding{deny("IST-015", cookie)}},
		{name: "IST-015 is offline only", svc: mkSvc(svcLabels(labelIstioSession, "sticky:/shop")), ctx: istioSvcCtx(false, on)},
		{name: "IST-015 valid value offline", svc: mkSvc(svcLabels(labelIstioSession, "sticky.v1_a-b")), ctx: istioSvcCtx(true, on)},
	})
}

// TestIstioWorstCaseMessagesFit uses the longest paths (a subset's port
// settings with large indexes) and echoed values.
func TestIstioWorstCaseMessagesFit(t *testing.T) {
	long := strings.Repeat("c", 253)
	lb := withHash(cookieLB("ASPSESSIONID"+long, ptrTo(strings.Repeat("9", 300))), func(ch *apis.IstioConsistentHash) {
		ch.MinimumRingSize = ptrTo(uint64(18446744073709551615))
		ch.Maglev = &apis.IstioMaglev{TableSize: ptrTo(uint64(18446744073709551614))}
		ch.HTTPCookie.Attributes = []apis.IstioCookieAttribute{{Name: long}, {Name: long}}
	})
	lb.LocalityLbSetting = &apis.LocalityLbSetting{Enabled: ptrTo(true)}
	pls := make([]apis.PortTrafficPolicy, 4096)
	for i := range pls {
		pls[i] = port(uint32(i+1), simpleLB())
	}
	pls[4095] = port(65535, lb)
	subsets := make([]apis.Subset, 1000)
	for i := range subsets {
		subsets[i] = subset("s", nil)
	}
	subsets[999].TrafficPolicy = &apis.TrafficPolicy{LoadBalancer: cookieLB("x", nil), PortLevelSettings: pls}
	subsets[999].TrafficPolicy.PortLevelSettings[0] = apis.PortTrafficPolicy{Port: &apis.PortSelector{Number: 4294967295}}
	d := mkDR(nil, subsets...)
	errs, warns := validateDestinationRule(d, nil, drCtx(true))
	lbp := "spec.subsets[999].trafficPolicy.portLevelSettings[4095].loadBalancer"
	assertFindings(t, errs, warns,
		[]finding{deny("IST-001", lbp+".consistentHash.minimumRingSize"), deny("IST-001", lbp+".consistentHash.maglev.tableSize"),
			deny("IST-001", lbp+".consistentHash.httpCookie.attributes[1].name"), deny("IST-004", lbp+".consistentHash.httpCookie.ttl")},
		[]finding{warn("IST-013", lbp+".consistentHash.httpCookie.name"), warn("IST-005", lbp+".consistentHash.minimumRingSize"),
			warn("IST-008", lbp+".localityLbSetting"), warn("IST-003", "spec.subsets[999].trafficPolicy.loadBalancer.consistentHash.httpCookie"),
			warn("IST-014", "spec.subsets[999].trafficPolicy.portLevelSettings[0]")})
	assertMessagesFit(t, errs, warns)

	svc := mkSvc(svcLabels(labelIstioSession, strings.Repeat("s", 70)+":/"+long, labelIstioSessionHeader, long))
	errs, warns = validateServiceIstio(svc, nil, istioSvcCtx(true, ptrTo(false)))
	assertFindings(t, errs, warns, []finding{deny("IST-015", ""), deny("IST-015", "")}, []finding{warn("IST-010", ""), warn("IST-011", "")})
	assertMessagesFit(t, errs, warns)
}

// TestMeshExamples evaluates every testdata/mesh file with this package's
// mesh families (offline, the file's other documents as the related
// objects) and checks the findings its "# Expect:" comment states.
func TestMeshExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "mesh", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	expectRe := regexp.MustCompile(`([A-Z]+-\d{3}) \((deny|warn)`)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			require.NoError(t, err)
			var want []string
			expectLine := ""
			for _, l := range strings.Split(string(raw), "\n") {
				if strings.HasPrefix(l, "# Expect:") {
					expectLine = l
				}
			}
			require.NotEmpty(t, expectLine, "every example states what it expects")
			for _, m := range expectRe.FindAllStringSubmatch(expectLine, -1) {
				want = append(want, m[1]+" "+m[2])
			}
			var (
				svcs   []*corev1.Service
				routes []*apis.Route
				btps   []*apis.EnvoyBackendTrafficPolicy
				drs    []*apis.DestinationRule
				gcps   []*apis.GCPBackendPolicy
			)
			for _, doc := range strings.Split(string(raw), "\n---\n") {
				js, err := yaml.YAMLToJSON([]byte(doc))
				require.NoError(t, err)
				var tm metav1.TypeMeta
				require.NoError(t, json.Unmarshal(js, &tm))
				if tm.Kind == "Service" {
					s := &corev1.Service{}
					require.NoError(t, json.Unmarshal(js, s))
					svcs = append(svcs, s)
					continue
				}
				obj, err := apis.Decode(tm.APIVersion, tm.Kind, js)
				require.NoError(t, err)
				switch o := obj.(type) {
				case *apis.Route:
					routes = append(routes, o)
				case *apis.EnvoyBackendTrafficPolicy:
					btps = append(btps, o)
				case *apis.DestinationRule:
					drs = append(drs, o)
				case *apis.GCPBackendPolicy:
					gcps = append(gcps, o)
				default:
					t.Fatalf("unexpected document %s/%s", tm.APIVersion, tm.Kind)
				}
			}
			ctx := drCtx(true)
			ctx.Related.Gateway.Routes, ctx.Related.Gateway.Services = routes, svcs
			ctx.Related.Gateway.EnvoyPolicies = btps
			var errs field.ErrorList
			var warns Warnings
			add := func(e field.ErrorList, w Warnings) {
				errs, warns = append(errs, e...), append(warns, w...)
			}
			for _, s := range svcs {
				add(validateServiceIstio(s, nil, ctx))
			}
			for _, r := range routes {
				add(validateRouteEnvoy(r, nil, ctx))
			}
			for _, p := range btps {
				add(validateEnvoyPolicy(p, nil, ctx))
			}
			for _, d := range drs {
				add(validateDestinationRule(d, nil, ctx))
			}
			for _, p := range gcps {
				add(validateGCPBackendPolicy(p, nil, ctx))
			}
			got := map[string]bool{}
			for _, e := range errs {
				got[e.Origin+" deny"] = true
			}
			for _, w := range warns {
				got[w.Rule+" warn"] = true
			}
			assert.ElementsMatch(t, want, slices.Sorted(maps.Keys(got)), "findings of %s", filepath.Base(file))
			assert.Equal(t, strings.HasSuffix(file, "-broken.yaml"), len(errs) > 0, "-broken files are denied, -valid ones admitted")
		})
	}
}
