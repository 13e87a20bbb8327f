package main

import "fmt"

// e2eClass is an object class of the end-to-end mode.
type e2eClass struct {
	// object is what worker w creates for its i-th request.
	object func(w, i int) any
	// plain: nothing sticky. stickyguard's configurations must send it to
	// no webhook (zero calls in the API server's metrics) and cost at least
	// 0.95 of no admission.
	plain bool
	// sticky: stickyguard judges (or fills) it; held to the floor targets.
	sticky bool
	// gateway: needs the Gateway API CRDs, the Gateway and its class.
	gateway bool
}

// e2eClasses are the object classes.
var e2eClasses = map[string]e2eClass{
	// Sticky Services: ClientIP LoadBalancer (stickyguard patches it to
	// Local), ClientIP ClusterIP with a timeout, ACK persistence LoadBalancer.
	"sticky": {sticky: true, object: func(w, i int) any {
		return stickyServices(fmt.Sprintf("sticky-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w))[i%3]
	}},
	// Plain ClusterIP Services as Helm writes them.
	"plain": {plain: true, object: func(w, i int) any {
		return plainService(fmt.Sprintf("plain-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w))
	}},
	// Plain Ingresses (ingress-nginx class, TLS, a cert-manager annotation,
	// no affinity).
	"plain-ingress": {plain: true, object: func(w, i int) any {
		return ingress(fmt.Sprintf("plain-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w), false)
	}},
	// Plain Deployments (always sent to stickyguard: see docs/operations.md).
	"plain-deployment": {object: func(w, i int) any {
		return deployment(fmt.Sprintf("plain-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w))
	}},
	// HTTPRoutes without and with cookie sessionPersistence (routes.go).
	"plain-route": {plain: true, gateway: true, object: func(w, i int) any {
		return routeObject(fmt.Sprintf("plain-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w), false)
	}},
	"sticky-route": {sticky: true, gateway: true, object: func(w, i int) any {
		return routeObject(fmt.Sprintf("sticky-%d-%d", w, i%1000), fmt.Sprintf("app-%d", w), true)
	}},
}

// e2eClassNames lists the classes in a stable order.
func e2eClassNames() []string {
	return []string{"sticky", "plain", "plain-ingress", "plain-deployment", "plain-route", "sticky-route"}
}

// needsGateway reports whether a class of the list needs the Gateway API.
func needsGateway(classes []string) bool {
	for _, c := range classes {
		if e2eClasses[c].gateway {
			return true
		}
	}
	return false
}
