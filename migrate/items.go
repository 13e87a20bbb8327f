package migrate

import "github.com/stickyguard/stickyguard/validators"

// itemList collects one Ingress's items with the table's verdicts on col.
type itemList struct {
	col   Column
	items []Item
}

// add appends the table's cell for a; the pointer is valid until the next
// add, for refinements.
func (l *itemList) add(a Aspect, ann, value string) *Item {
	cell := Lookup(a, l.col)
	it := Item{Aspect: a, Annotation: ann, Value: value, Verdict: cell.Verdict, Note: cell.Note, Workaround: cell.Workaround}
	if it.Verdict == Lost {
		it.Rule = mig004.ID
	}
	l.items = append(l.items, it)
	return &l.items[len(l.items)-1]
}

// items lists, for one Ingress, every sticky annotation (and derived
// behaviour) with the table's verdict on col. Writers refine them (a
// renamed cookie, a clamped TTL) through (*ObjectReport).refine.
func (m *migration) items(in *ingress, col Column) []Item {
	c := in.conf
	l := &itemList{col: col}
	ann := func(a Aspect, name string) *Item {
		v, _ := c.raw(name)
		return l.add(a, ngx+name, v)
	}
	if !c.Cookie() {
		ann(AspHashBy, "upstream-hash-by")
		if c.subset {
			ann(AspHashBySubset, "upstream-hash-by-subset")
		}
		return l.items
	}
	ann(AspAffinity, "affinity")
	if c.Mode == "persistent" {
		ann(AspPersistent, "affinity-mode")
	} else if it := ann(AspBalanced, "affinity-mode"); it.Value == "" {
		it.Value = "balanced (default)"
	}
	if cs := m.anyCanary(in); cs != nil {
		a := AspCanarySticky
		if cs.legacy {
			a = AspCanaryLegacy
		}
		it := l.add(a, ngx+"affinity-canary-behavior", cs.in.conf.CanaryBehavior+" (canary Ingress "+cs.in.ing.Name+")")
		if a == AspCanarySticky && cs.weight == nil && isRouteColumn(col) {
			it.Verdict = Approximate
			it.Note = "a header or cookie canary is a rule of its own in Gateway API, and rules do not share a session: add the canary rule (with its own cookie) to the converter's route"
		}
	}
	if it := ann(AspName, "session-cookie-name"); it.Value == "" {
		it.Value = "INGRESSCOOKIE (default)"
	}
	pathItems(l, in)
	if c.Domain != "" {
		ann(AspDomain, "session-cookie-domain")
	}
	if c.SameSite != "" {
		ann(AspSameSite, "session-cookie-samesite")
	}
	if c.ConditionalSameSiteNone && c.SameSite == "None" {
		ann(AspConditional, "session-cookie-conditional-samesite-none")
	}
	if c.Secure {
		ann(AspSecure, "session-cookie-secure")
	}
	ttlItems(l, c)
	if _, ok := c.raw("session-cookie-change-on-failure"); ok {
		it := ann(AspChangeOnFailure, "session-cookie-change-on-failure")
		if !c.ChangeOnFailure {
			changeOnFailureFalse(it, col)
		}
	}
	if c.hashBy != "" {
		it := ann(AspHashBy, "upstream-hash-by")
		it.Verdict, it.Rule, it.Workaround = Exact, mig007.ID, ""
		it.Note = "ingress-nginx ignores upstream-hash-by when affinity is cookie: not migrated, nothing changes"
	}
	return l.items
}

// changeOnFailureFalse refines the item for false, ingress-nginx's
// default: the cookie keeps pointing at the failed endpoint.
func changeOnFailureFalse(it *Item, col Column) {
	it.Workaround, it.Rule = "", ""
	switch col {
	case ColEnvoyPolicy, ColIstio:
		it.Verdict = Exact
		it.Note = "the hash does not change after a failed request, as with false"
	case ColGKE, ColTraefik:
		it.Verdict = Approximate
		it.Note = "no setting: what follows a failed request is the load balancer's choice"
	}
}

// pathItems reports where the cookie Path came from.
func pathItems(l *itemList, in *ingress) {
	c := in.conf
	if c.Path != "" {
		v, _ := c.raw("session-cookie-path")
		l.add(AspPath, ngx+"session-cookie-path", v)
		return
	}
	for _, r := range in.ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if validators.NginxRegexPath(p.Path) {
				l.add(AspRegexPath, "", p.Path).Rule = mig005.ID
				return
			}
		}
	}
	l.add(AspDefaultPath, "", "")
}

// ttlItems reports the cookie lifetime: each of max-age and expires as
// ingress-nginx used it.
func ttlItems(l *itemList, c *nginxConf) {
	maxRaw, maxSet := c.raw("session-cookie-max-age")
	expRaw, expSet := c.raw("session-cookie-expires")
	if !maxSet && !expSet {
		l.add(AspNoExpiry, "", "")
		return
	}
	_, lives := c.lifetime()
	session := Lookup(AspNoExpiry, l.col)
	one := func(name, raw string, val *int64, a Aspect) {
		switch {
		case val == nil && lives:
			it := l.add(AspNoExpiry, ngx+name, raw)
			it.Verdict, it.Rule = Exact, mig006.ID
			it.Note = "not an integer: ingress-nginx drops it and the other lifetime annotation applies"
		case val == nil:
			it := l.add(AspNoExpiry, ngx+name, raw)
			it.Rule = mig006.ID
			it.Note = "not an integer: ingress-nginx drops it (a session cookie), and so does the target: " + session.Note
		case *val <= 0:
			it := l.add(AspNoExpiry, ngx+name, raw)
			it.Verdict, it.Rule = Approximate, mig006.ID
			it.Note = "ingress-nginx's cookie expired at once (no affinity); the target gets a session cookie instead: " + session.Note
		case a == AspExpires && c.maxAge != nil:
			it := l.add(AspExpires, ngx+name, raw)
			it.Verdict, it.Rule, it.Workaround = Exact, "", ""
			it.Note = "browsers use Max-Age when both are set: Expires adds nothing"
		default:
			l.add(a, ngx+name, raw)
		}
	}
	if maxSet {
		one("session-cookie-max-age", maxRaw, c.maxAge, AspMaxAge)
	}
	if expSet {
		one("session-cookie-expires", expRaw, c.expires, AspExpires)
	}
}

// hashLost reports an upstream-hash-by key the target cannot hash on.
func (r *ObjectReport) hashLost(key, target string) {
	r.refine(AspHashBy, Lost, "key "+key+" is not one header, cookie, query parameter or the client address: "+target+" cannot hash on it")
	for i := range r.Items {
		if r.Items[i].Aspect == AspHashBy {
			r.Items[i].Workaround = "hash on a header or cookie the clients send (the application sets it), or keep this host on ingress-nginx"
		}
	}
}

// refine changes an item of the report: the first with aspect a.
func (r *ObjectReport) refine(a Aspect, v Verdict, note string) {
	for i := range r.Items {
		if r.Items[i].Aspect != a {
			continue
		}
		r.Items[i].Verdict = v
		if note != "" {
			r.Items[i].Note = note
		}
		if v == Lost && r.Items[i].Rule == "" {
			r.Items[i].Rule = mig004.ID
		}
		if v != Lost {
			r.Items[i].Workaround = ""
			if r.Items[i].Rule == mig004.ID {
				r.Items[i].Rule = ""
			}
		}
		return
	}
}

// demote marks the items that were kept approximate, saying why: the
// object written holds another Ingress's settings.
func (r *ObjectReport) demote(why string) {
	for i := range r.Items {
		if r.Items[i].Verdict != Lost {
			r.Items[i].Verdict = Approximate
			r.Items[i].Note = why + "; " + r.Items[i].Note
		}
	}
}

func isRouteColumn(c Column) bool {
	return c == ColGatewayV1 || c == ColGatewayV2 || c == ColEnvoyRoute
}

// anyCanary returns the first canary of the Ingress's paths.
func (m *migration) anyCanary(in *ingress) *canarySite {
	for _, r := range in.ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			if cs := m.canaryFor(in.ing.Namespace, r.Host, location(p)); cs != nil {
				return cs
			}
		}
	}
	return nil
}
