package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one measured run (or several merged).
type Result struct {
	Requests int
	Errors   int
	Elapsed  time.Duration
	// Latencies of every request, sorted after finish (errors included:
	// a failed request still took that long).
	Latencies []time.Duration
	// FirstErrors keeps a few error messages for the report.
	FirstErrors []string
	// Warnings is how many warnings the API server returned (end-to-end).
	Warnings int64
}

// Throughput is requests per second over the run.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// Pct returns the p-th percentile (0 < p <= 100), nearest rank.
func (r *Result) Pct(p float64) time.Duration {
	n := len(r.Latencies)
	if n == 0 {
		return 0
	}
	i := int(float64(n)*p/100+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= n {
		i = n - 1
	}
	return r.Latencies[i]
}

// Max is the slowest request.
func (r *Result) Max() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Latencies[len(r.Latencies)-1]
}

func (r *Result) finish() { slices.Sort(r.Latencies) }

// merge adds o to r (rounds of the same configuration).
func (r *Result) merge(o *Result) {
	r.Requests += o.Requests
	r.Errors += o.Errors
	r.Warnings += o.Warnings
	r.Elapsed += o.Elapsed
	r.Latencies = append(r.Latencies, o.Latencies...)
	for _, e := range o.FirstErrors {
		if len(r.FirstErrors) < 5 {
			r.FirstErrors = append(r.FirstErrors, e)
		}
	}
	r.finish()
}

// Summary is the printable part of a Result.
type Summary struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	Throughput float64 `json:"throughput"`
	P50        float64 `json:"p50_ms"`
	P95        float64 `json:"p95_ms"`
	P99        float64 `json:"p99_ms"`
	Max        float64 `json:"max_ms"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Summary returns the numbers the reports print.
func (r *Result) Summary() Summary {
	return Summary{Requests: r.Requests, Errors: r.Errors, Throughput: r.Throughput(),
		P50: ms(r.Pct(50)), P95: ms(r.Pct(95)), P99: ms(r.Pct(99)), Max: ms(r.Max())}
}

func (r *Result) String() string {
	s := r.Summary()
	return fmt.Sprintf("%8d req %4d err %9.1f req/s  p50 %7.3f  p95 %7.3f  p99 %7.3f  max %8.3f ms",
		s.Requests, s.Errors, s.Throughput, s.P50, s.P95, s.P99, s.Max)
}

// Limits bound one load loop.
type Limits struct {
	Concurrency int
	Duration    time.Duration
	MaxRequests int
	// Finish: do runs its requests to their end past the deadline, so a
	// request that fails then failed by itself and counts like any other.
	Finish bool
}

// run calls do from Concurrency workers until Duration passes, MaxRequests
// were sent or ctx ends. do gets the worker index and its request count.
func run(ctx context.Context, l Limits, do func(ctx context.Context, worker, i int) error) *Result {
	if l.Concurrency < 1 {
		l.Concurrency = 1
	}
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var budget atomic.Int64
	budget.Store(int64(l.MaxRequests))
	results := make([]Result, l.Concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < l.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			res := &results[w]
			res.Latencies = make([]time.Duration, 0, 1024)
			for i := 0; ctx.Err() == nil && budget.Add(-1) >= 0; i++ {
				t0 := time.Now()
				err := do(ctx, w, i)
				d := time.Since(t0)
				if ctx.Err() != nil && err != nil && !l.Finish {
					break // cut off by the deadline: not a failure of the target
				}
				res.Requests++
				res.Latencies = append(res.Latencies, d)
				if err != nil {
					res.Errors++
					if len(res.FirstErrors) < 3 {
						res.FirstErrors = append(res.FirstErrors, err.Error())
					}
				}
			}
		}(w)
	}
	wg.Wait()
	total := &Result{Elapsed: time.Since(start)}
	for i := range results {
		total.Requests += results[i].Requests
		total.Errors += results[i].Errors
		total.Latencies = append(total.Latencies, results[i].Latencies...)
		for _, e := range results[i].FirstErrors {
			if len(total.FirstErrors) < 5 {
				total.FirstErrors = append(total.FirstErrors, e)
			}
		}
	}
	total.finish()
	return total
}
