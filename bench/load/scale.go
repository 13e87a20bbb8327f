package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// scaleNamespace holds the scale mode's objects (enforce).
const scaleNamespace = "shop"

// ScaleRun is one review series at one concurrency.
type ScaleRun struct {
	Review      string  `json:"review"`
	Concurrency int     `json:"concurrency"`
	Summary     Summary `json:"summary"`
	result      *Result
}

// ScalePhase is serve at one cluster size.
type ScalePhase struct {
	Name   string     `json:"name"`
	RSSKiB int64      `json:"rss_kib"`
	HWMKiB int64      `json:"peak_rss_kib"`
	Runs   []ScaleRun `json:"runs"`
}

// ScaleReport is the scale mode's outcome.
type ScaleReport struct {
	Services         int          `json:"services"`
	Deployments      int          `json:"deployments"`
	Ingresses        int          `json:"ingresses"`
	LoadSeconds      float64      `json:"load_seconds"`
	CreatesPerSecond float64      `json:"creates_per_second"`
	Phases           []ScalePhase `json:"phases"`
	Targets          []Check      `json:"targets"`
}

// The probe pair of the scale mode: the Deployment review of a Deployment
// selected by a sticky Service (it gets anti-affinity), and that Service's
// review (which looks up the Deployments it selects).
const probeApp = "probe"

func scaleProbes(ns string) ([]request, error) {
	svc := stickyServices("probe", probeApp)[0]
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	dep := deployment("probe", probeApp)
	dr, err := newReview(ns, dep, gvrDeployments)
	if err != nil {
		return nil, err
	}
	sr, err := newReview(ns, svc, gvrServices)
	if err != nil {
		return nil, err
	}
	return []request{
		{Name: "deployment", Path: "/mutate-apps-v1-deployment", Half: "mutate", Review: dr, Want: answer{true, true}},
		{Name: "deployment", Path: "/validate-apps-v1-deployment", Half: "validate", Review: dr, Want: answer{true, false}},
		{Name: "service", Path: "/mutate--v1-service", Half: "mutate", Review: sr, Want: answer{true, false}},
		{Name: "service", Path: "/validate--v1-service", Half: "validate", Review: sr, Want: answer{true, false}},
	}, nil
}

func runScale(ctx context.Context, h *Harness) (*ScaleReport, error) {
	o := h.Opts
	rep := &ScaleReport{Services: o.ScaleServices, Deployments: o.ScaleDeployments, Ingresses: o.ScaleIngresses}
	if err := h.Namespace(ctx, scaleNamespace, "enforce"); err != nil {
		return nil, err
	}
	// The sticky Service the probe Deployment matches exists in both phases.
	probeSvc := stickyServices("probe", probeApp)[0]
	probeSvc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	if err := createObject(ctx, h, scaleNamespace, probeSvc); err != nil {
		return nil, err
	}
	probes, err := scaleProbes(scaleNamespace)
	if err != nil {
		return nil, err
	}
	serve, err := h.StartServe(ctx)
	if err != nil {
		return nil, err
	}
	phase, err := h.measureScale(ctx, serve, "empty", probes)
	if err != nil {
		return nil, err
	}
	rep.Phases = append(rep.Phases, phase)

	start := time.Now()
	n, err := h.loadNamespace(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("loading the namespace: %w", err)
	}
	rep.LoadSeconds = time.Since(start).Seconds()
	rep.CreatesPerSecond = float64(n) / rep.LoadSeconds
	logf("scale: created %d objects in %.1f s", n, rep.LoadSeconds)
	if err := h.waitCaught(ctx, serve); err != nil {
		return nil, fmt.Errorf("serve's cache did not catch up: %w", err)
	}
	if phase, err = h.measureScale(ctx, serve, "loaded (watch)", probes); err != nil {
		return nil, err
	}
	rep.Phases = append(rep.Phases, phase)

	// A fresh replica builds its cache from one LIST per kind.
	serve.Stop()
	if serve, err = h.StartServe(ctx); err != nil {
		return nil, err
	}
	if phase, err = h.measureScale(ctx, serve, "loaded (restarted)", probes); err != nil {
		return nil, err
	}
	rep.Phases = append(rep.Phases, phase)

	empty := rep.Phases[0]
	for _, p := range rep.Phases[1:] {
		for i, r := range p.Runs {
			if r.Review != "deployment" {
				continue
			}
			e := empty.Runs[i]
			out := atMost(fmt.Sprintf("scale %s c=%d: Deployment review p99 <= 2 x empty", p.Name, r.Concurrency), r.Summary.P99/e.Summary.P99, 2)
			rep.Targets = append(rep.Targets, out)
		}
		rep.Targets = append(rep.Targets, atMost(fmt.Sprintf("scale %s: serve RSS MiB < 150", p.Name), float64(p.RSSKiB)/1024, 150))
	}
	for _, p := range rep.Phases {
		for _, r := range p.Runs {
			rep.Targets = append(rep.Targets, atMost(fmt.Sprintf("scale %s %s c=%d: errors", p.Name, r.Review, r.Concurrency), float64(r.Summary.Errors), 0))
		}
	}
	return rep, nil
}

// measureScale runs the probe reviews at each concurrency, then reads RSS.
func (h *Harness) measureScale(ctx context.Context, serve *Proc, name string, probes []request) (ScalePhase, error) {
	o := h.Opts
	maxConc := 1
	for _, c := range o.ScaleConcurrency {
		maxConc = max(maxConc, c)
	}
	t := &target{Name: "stickyguard", Base: "https://" + serve.Addr, Client: h.HTTPClient(maxConc)}
	buf := make([]byte, 0, 16<<10)
	for i := range probes {
		if _, err := t.send(ctx, &probes[i], buf, 0, i); err != nil {
			return ScalePhase{}, fmt.Errorf("%s warm-up: %w", name, err)
		}
	}
	ph := ScalePhase{Name: name}
	for _, kind := range []string{"deployment", "service"} {
		var mine []request
		for _, p := range probes {
			if p.Name == kind {
				mine = append(mine, p)
			}
		}
		for _, c := range o.ScaleConcurrency {
			bufs := make([][]byte, c)
			res := run(ctx, Limits{Concurrency: c, Duration: o.Duration, MaxRequests: o.MaxRequests}, func(ctx context.Context, w, i int) error {
				var err error
				bufs[w], err = t.send(ctx, &mine[i%len(mine)], bufs[w], w, i)
				return err
			})
			logf("scale %-18s %-10s c=%-3d %s", name, kind, c, res)
			for _, e := range res.FirstErrors {
				logf("scale error: %s", e)
			}
			ph.Runs = append(ph.Runs, ScaleRun{Review: kind, Concurrency: c, Summary: res.Summary(), result: res})
			if err := ctx.Err(); err != nil {
				return ph, err
			}
		}
	}
	// Let the collector settle after the load, then read the memory.
	time.Sleep(2 * time.Second)
	var err error
	if ph.RSSKiB, ph.HWMKiB, err = serve.RSS(); err != nil {
		return ph, err
	}
	logf("scale %-18s serve RSS %.1f MiB (peak %.1f MiB)", name, float64(ph.RSSKiB)/1024, float64(ph.HWMKiB)/1024)
	return ph, nil
}

// scaleObjects yields the i-th object of the namespace: Deployments with
// Helm labels, about two Services per Deployment (every tenth a ClientIP
// ClusterIP Service, the others headless), and Ingresses routing to the
// Services (every third with cookie affinity).
func scaleObjects(o *Options) (total int, at func(i int) runtime.Object) {
	d, s, g := o.ScaleDeployments, o.ScaleServices, o.ScaleIngresses
	apps := max(d, 1)
	return d + s + g, func(i int) runtime.Object {
		switch {
		case i < d:
			app := fmt.Sprintf("app-%d", i)
			return deployment(app, app)
		case i < d+s:
			j := i - d
			app := fmt.Sprintf("app-%d", j%apps)
			svc := plainService(fmt.Sprintf("svc-%d", j), app)
			if j%10 != 0 {
				// Headless: the API server's ClusterIP allocator (about 150
				// creates/s here) would dominate the load; the cached
				// object is the same size.
				svc.Spec.ClusterIP = corev1.ClusterIPNone
			} else {
				svc.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
				svc.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr.To[int32](1800)}}
			}
			return svc
		default:
			k := i - d - s
			return ingress(fmt.Sprintf("ing-%d", k), fmt.Sprintf("svc-%d", k%max(s, 1)), k%3 == 0)
		}
	}
}

// loadNamespace creates the scale objects with a bounded pool of workers.
func (h *Harness) loadNamespace(ctx context.Context, o *Options) (int, error) {
	total, at := scaleObjects(o)
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()
	var next, done atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for w := 0; w < o.CreateWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				if err := createObject(ctx, h, scaleNamespace, at(i)); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					if len(errs) > 10 {
						cancel()
					}
					continue
				}
				if n := done.Add(1); n%5000 == 0 {
					logf("scale: %d/%d objects created", n, total)
				}
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return int(done.Load()), errors.Join(errs...)
	}
	return int(done.Load()), ctx.Err()
}

// waitCaught creates marker objects after the bulk (a Deployment, an
// Ingress, and a sticky Service selecting the one and behind the other)
// and waits until serve's answers show all three kinds in its cache.
func (h *Harness) waitCaught(ctx context.Context, serve *Proc) error {
	dep := deployment("marker", "marker")
	ing := ingress("marker", "marker", false)
	svc := stickyServices("marker", "marker")[0]
	svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	for _, o := range []runtime.Object{dep, ing, svc} {
		if err := createObject(ctx, h, scaleNamespace, o); err != nil {
			return err
		}
	}
	svcReview, err := newReview(scaleNamespace, svc, gvrServices)
	if err != nil {
		return err
	}
	depReview, err := newReview(scaleNamespace, dep, gvrDeployments)
	if err != nil {
		return err
	}
	client := h.HTTPClient(1)
	base := "https://" + serve.Addr
	start := time.Now()
	return waitFor(ctx, 3*time.Minute, serve, func() error {
		// The Service's warnings name the Deployment (SVC-012) and the
		// Ingress (SVC-010); the Deployment gets anti-affinity (DEP-001).
		body, uid := svcReview.withUID(nil, 0, 1)
		data, err := postReview(client, base+"/validate--v1-service", body)
		if err != nil {
			return err
		}
		if !strings.Contains(data, uid) || !strings.Contains(data, "SVC-012") || !strings.Contains(data, "SVC-010") {
			return errors.New("the Service review does not see the marker Deployment and Ingress yet")
		}
		body, _ = depReview.withUID(nil, 0, 2)
		if data, err = postReview(client, base+"/mutate-apps-v1-deployment", body); err != nil {
			return err
		}
		if !strings.Contains(data, `"patch"`) {
			return errors.New("the Deployment review does not see the marker Service yet")
		}
		logf("scale: serve caught up %.1f s after the markers", time.Since(start).Seconds())
		return nil
	})
}

// postReview sends one review body and returns the answer as text.
func postReview(c *http.Client, url string, body []byte) (string, error) {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, data)
	}
	return string(data), nil
}
