package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// directNamespace is where the direct mode's objects live (enforce).
const directNamespace = "load"

// answer is what a review must come back with.
type answer struct {
	Allowed bool
	Patch   bool
}

// request is one entry of the mix: the stickyguard path, the half, the
// review body and stickyguard's expected answer (the floor allows all).
type request struct {
	Name   string
	Path   string
	Half   string // "mutate" or "validate"
	Review review
	Want   answer
}

// target is a webhook server under load.
type target struct {
	Name   string
	Base   string // https://127.0.0.1:port
	Floor  bool   // paths are /mutate and /validate, every answer is allow
	Client *http.Client
	pid    int
}

func (t *target) url(r *request) string {
	if t.Floor {
		if r.Half == "mutate" {
			return t.Base + floorMutate
		}
		return t.Base + floorValidate
	}
	return t.Base + r.Path
}

func (t *target) want(r *request) answer {
	if t.Floor {
		return answer{Allowed: true}
	}
	return r.Want
}

// send posts one review and checks the answer.
func (t *target) send(ctx context.Context, r *request, buf []byte, w, i int) ([]byte, error) {
	body, uid := r.Review.withUID(buf, w, i)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url(r), bytes.NewReader(body))
	if err != nil {
		return body, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := t.Client.Do(req)
	if err != nil {
		return body, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return body, err
	}
	if resp.StatusCode != http.StatusOK {
		return body, fmt.Errorf("%s %s: HTTP %d: %.200s", t.Name, r.Name, resp.StatusCode, data)
	}
	if err := checkAnswer(data, uid, t.want(r)); err != nil {
		return body, fmt.Errorf("%s %s %s: %w", t.Name, r.Half, r.Name, err)
	}
	return body, nil
}

// checkAnswer verifies a response is a well-formed AdmissionReview for uid
// with the expected decision: an allowed answer has no failure status, a
// patch is a JSONPatch array of operations, a denial carries a status with
// an HTTP error code.
func checkAnswer(data []byte, uid string, want answer) error {
	var ar admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &ar); err != nil {
		return fmt.Errorf("not an AdmissionReview: %w", err)
	}
	if ar.APIVersion != "admission.k8s.io/v1" || ar.Kind != "AdmissionReview" {
		return fmt.Errorf("apiVersion/kind %q/%q", ar.APIVersion, ar.Kind)
	}
	r := ar.Response
	if r == nil {
		return errors.New("no response")
	}
	if string(r.UID) != uid {
		return fmt.Errorf("uid %q, want %q", r.UID, uid)
	}
	if r.Allowed != want.Allowed {
		msg := ""
		if r.Result != nil {
			msg = r.Result.Message
		}
		return fmt.Errorf("allowed=%v, want %v (%.300s)", r.Allowed, want.Allowed, msg)
	}
	if !r.Allowed {
		if r.Result == nil || r.Result.Code < 400 {
			return errors.New("a denial without an error status")
		}
		if len(r.Patch) > 0 {
			return errors.New("a denial with a patch")
		}
		return nil
	}
	if r.Result != nil && r.Result.Code >= 400 {
		return fmt.Errorf("allowed with error status %d", r.Result.Code)
	}
	if (len(r.Patch) > 0) != want.Patch {
		return fmt.Errorf("patch %q, want a patch: %v", r.Patch, want.Patch)
	}
	if len(r.Patch) > 0 {
		if r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
			return errors.New("patch without patchType JSONPatch")
		}
		var ops []struct {
			Op   string `json:"op"`
			Path string `json:"path"`
		}
		if err := json.Unmarshal(r.Patch, &ops); err != nil || len(ops) == 0 {
			return fmt.Errorf("patch is not a JSON patch: %q", r.Patch)
		}
		for _, op := range ops {
			if op.Op == "" || !strings.HasPrefix(op.Path, "/") {
				return fmt.Errorf("bad patch operation %+v", op)
			}
		}
	}
	return nil
}

// directMix is the realistic mix: sticky and plain Services, nginx
// Ingresses (one broken, denied in enforce mode), Deployments selected by a
// sticky Service (which get anti-affinity) and plain ones, each sent to the
// mutating and the validating path.
func directMix(ns string) ([]request, error) {
	type entry struct {
		name     string
		obj      runtime.Object
		gvr      metav1.GroupVersionResource
		kind     string
		mut, val answer
	}
	sticky := stickyServices("checkout", "checkout")
	entries := []entry{
		{"service-clientip-lb", sticky[0], gvrServices, "service", answer{true, false}, answer{true, false}},
		{"service-clientip", sticky[1], gvrServices, "service", answer{true, false}, answer{true, false}},
		{"service-ack-lb", sticky[2], gvrServices, "service", answer{true, true}, answer{true, false}},
		{"service-plain", plainService("catalog", "catalog"), gvrServices, "service", answer{true, false}, answer{true, false}},
		{"service-plain-2", plainService("search", "search"), gvrServices, "service", answer{true, false}, answer{true, false}},
		{"ingress-cookie", ingress("checkout", "checkout", true), gvrIngresses, "ingress", answer{true, false}, answer{true, false}},
		{"ingress-plain", ingress("catalog", "catalog", false), gvrIngresses, "ingress", answer{true, false}, answer{true, false}},
		{"ingress-broken", brokenIngress(), gvrIngresses, "ingress", answer{true, false}, answer{false, false}},
		{"deployment-sticky", deployment("web", "web"), gvrDeployments, "deployment", answer{true, true}, answer{true, false}},
		{"deployment-plain", deployment("catalog", "catalog"), gvrDeployments, "deployment", answer{true, false}, answer{true, false}},
		{"deployment-plain-2", deployment("search", "search"), gvrDeployments, "deployment", answer{true, false}, answer{true, false}},
	}
	paths := map[string][2]string{
		"service":    {"/mutate--v1-service", "/validate--v1-service"},
		"ingress":    {"/mutate-networking-k8s-io-v1-ingress", "/validate-networking-k8s-io-v1-ingress"},
		"deployment": {"/mutate-apps-v1-deployment", "/validate-apps-v1-deployment"},
	}
	var out []request
	for _, e := range entries {
		rv, err := newReview(ns, e.obj, e.gvr)
		if err != nil {
			return nil, err
		}
		out = append(out,
			request{Name: e.name, Path: paths[e.kind][0], Half: "mutate", Review: rv, Want: e.mut},
			request{Name: e.name, Path: paths[e.kind][1], Half: "validate", Review: rv, Want: e.val})
	}
	return out, nil
}

// brokenIngress has affinity "Cookie", which ingress-nginx ignores (NGX-001).
func brokenIngress() *networkingv1.Ingress {
	ing := ingress("promo", "promo", true)
	ing.Annotations[annNginx+"affinity"] = "Cookie"
	return ing
}

// seedNamespace creates what a small live namespace holds, so the lookups
// have something to find: the sticky Service "web" (stored with
// externalTrafficPolicy Local) selecting the web Deployment, and a few
// plain Services, Deployments and Ingresses.
func seedNamespace(ctx context.Context, h *Harness, ns string) error {
	web := stickyServices("web", "web")[0]
	web.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	objs := []runtime.Object{web}
	for i := 0; i < 10; i++ {
		app := fmt.Sprintf("svc-%d", i)
		objs = append(objs, plainService(app, app), deployment(app, app), ingress(app, app, i%3 == 0))
	}
	for _, o := range objs {
		if err := createObject(ctx, h, ns, o); err != nil {
			return err
		}
	}
	return nil
}

// createObject creates a typed object through the API.
func createObject(ctx context.Context, h *Harness, ns string, o runtime.Object) error {
	var err error
	opts := metav1.CreateOptions{}
	switch v := o.(type) {
	case *corev1.Service:
		_, err = h.Client.CoreV1().Services(ns).Create(ctx, v, opts)
	case *appsv1.Deployment:
		_, err = h.Client.AppsV1().Deployments(ns).Create(ctx, v, opts)
	case *networkingv1.Ingress:
		_, err = h.Client.NetworkingV1().Ingresses(ns).Create(ctx, v, opts)
	default:
		err = fmt.Errorf("cannot create a %T", o)
	}
	return err
}

// DirectRun is one target at one concurrency, merged over the rounds.
type DirectRun struct {
	Target      string  `json:"target"`
	Concurrency int     `json:"concurrency"`
	Summary     Summary `json:"summary"`
	// ServerCPU and ClientCPU are CPU microseconds per review of the
	// webhook process and of this load generator.
	ServerCPU float64 `json:"server_cpu_us_per_review"`
	ClientCPU float64 `json:"client_cpu_us_per_review"`
	result    *Result
}

// DirectReport is the direct mode's outcome.
type DirectReport struct {
	Mix     []string    `json:"mix"`
	Runs    []DirectRun `json:"runs"`
	Targets []Check     `json:"targets"`
}

// runDirect loads serve and the floor with the same mix over TLS,
// alternating them in rounds.
func runDirect(ctx context.Context, h *Harness) (*DirectReport, error) {
	o := h.Opts
	if err := h.Namespace(ctx, directNamespace, "enforce"); err != nil {
		return nil, err
	}
	if err := seedNamespace(ctx, h, directNamespace); err != nil {
		return nil, fmt.Errorf("seeding the namespace: %w", err)
	}
	serve, err := h.StartServe(ctx)
	if err != nil {
		return nil, err
	}
	floor, err := h.StartFloor(ctx)
	if err != nil {
		return nil, err
	}
	mix, err := directMix(directNamespace)
	if err != nil {
		return nil, err
	}
	rep := &DirectReport{}
	for _, r := range mix {
		rep.Mix = append(rep.Mix, r.Half+" "+r.Name)
	}
	maxConc := 1
	for _, c := range o.DirectConcurrency {
		maxConc = max(maxConc, c)
	}
	targets := []*target{
		{Name: "floor", Base: "https://" + floor.Addr, Floor: true, Client: h.HTTPClient(maxConc), pid: floor.Pid()},
		{Name: "stickyguard", Base: "https://" + serve.Addr, Client: h.HTTPClient(maxConc), pid: serve.Pid()},
	}
	// Warm up and check every entry of the mix once against both.
	for _, t := range targets {
		buf := make([]byte, 0, 16<<10)
		for i := range mix {
			if _, err := t.send(ctx, &mix[i], buf, 0, i); err != nil {
				return nil, fmt.Errorf("warm-up: %w", err)
			}
		}
	}
	per := o.Duration / time.Duration(o.Rounds)
	for _, c := range o.DirectConcurrency {
		merged := map[string]*Result{}
		perRound := map[string][]*Result{}
		serverCPU, clientCPU := map[string]time.Duration{}, map[string]time.Duration{}
		for round := 0; round < o.Rounds; round++ {
			for k := range targets {
				t := targets[(k+round)%len(targets)] // alternate who goes first
				bufs := make([][]byte, c)
				s0, c0 := cpuTime(t.pid), cpuTime(os.Getpid())
				res := run(ctx, Limits{Concurrency: c, Duration: per, MaxRequests: o.MaxRequests}, func(ctx context.Context, w, i int) error {
					r := &mix[(w*5+i)%len(mix)]
					var err error
					bufs[w], err = t.send(ctx, r, bufs[w], w, i)
					return err
				})
				serverCPU[t.Name] += cpuTime(t.pid) - s0
				clientCPU[t.Name] += cpuTime(os.Getpid()) - c0
				logf("direct  %-11s c=%-3d round %d: %s", t.Name, c, round+1, res)
				if merged[t.Name] == nil {
					merged[t.Name] = &Result{}
				}
				merged[t.Name].merge(res)
				perRound[t.Name] = append(perRound[t.Name], res)
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
		}
		for _, t := range targets {
			m := merged[t.Name]
			perReview := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(m.Requests, 1)) }
			rep.Runs = append(rep.Runs, DirectRun{Target: t.Name, Concurrency: c, Summary: m.Summary(), result: m,
				ServerCPU: perReview(serverCPU[t.Name]), ClientCPU: perReview(clientCPU[t.Name])})
		}
		fl, sg := merged["floor"], merged["stickyguard"]
		rep.Targets = append(rep.Targets,
			atLeast(fmt.Sprintf("direct c=%d: stickyguard reviews/s >= 0.80 x floor", c), sg.Throughput()/fl.Throughput(), 0.80).
				withRounds(roundRange(perRound["stickyguard"], perRound["floor"])),
			atMost(fmt.Sprintf("direct c=%d: stickyguard p99 <= 1.5 x floor", c), ms(sg.Pct(99))/ms(fl.Pct(99)), 1.5),
			atMost(fmt.Sprintf("direct c=%d: stickyguard errors", c), float64(sg.Errors+fl.Errors), 0))
		for _, t := range targets {
			for _, e := range merged[t.Name].FirstErrors {
				logf("direct  %s error: %s", t.Name, e)
			}
		}
	}
	return rep, nil
}
