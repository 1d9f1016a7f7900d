// Command handoff times Go's own channels on this machine for issue 2's comparison: the same cases
// as Sluice's HandoffDuel and SelectBenchmark, so the "within 1.5x of Go" target is read from
// figures measured here rather than quoted.
//
// Cases (each the median of -rounds rounds of -n operations, after -warmup rounds):
//   - handoff/capacity=C: one producer goroutine sends -n values into a channel of capacity C, one
//     consumer goroutine receives them; ns per value.
//   - select2/capacity=C: two producers each send -n/2 values into their own channel of capacity C;
//     one consumer runs -n selects over both; ns per select.
//
// Run: GOMAXPROCS=2 go run . [-n 1000000] [-rounds 10] [-capacities 0,16,1024]
package main

import (
	"flag"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

func handoff(capacity, n int) time.Duration {
	ch := make(chan int, capacity)
	done := make(chan int)
	start := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	go func() {
		sum := 0
		for v := range ch {
			sum += v
		}
		done <- sum
	}()
	if sum := <-done; sum != n*(n-1)/2 {
		panic(fmt.Sprintf("lost values: sum %d", sum))
	}
	return time.Since(start)
}

func select2(capacity, n int) time.Duration {
	a := make(chan int, capacity)
	b := make(chan int, capacity)
	feed := func(c chan int) {
		for i := 0; i < n/2; i++ {
			c <- i
		}
	}
	start := time.Now()
	go feed(a)
	go feed(b)
	got := 0
	for got < n {
		select {
		case <-a:
		case <-b:
		}
		got++
	}
	return time.Since(start)
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

func main() {
	n := flag.Int("n", 1_000_000, "operations per round")
	rounds := flag.Int("rounds", 10, "measured rounds")
	warmup := flag.Int("warmup", 3, "rounds not measured")
	caps := flag.String("capacities", "0,16,1024", "channel capacities")
	flag.Parse()
	fmt.Printf("Go %s, GOMAXPROCS=%d, %d operations per round, median of %d rounds\n",
		runtime.Version(), runtime.GOMAXPROCS(0), *n, *rounds)
	fmt.Printf("%-22s %12s %12s %12s\n", "case", "ns/op", "min", "max")
	for _, field := range strings.Split(*caps, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil {
			panic(err)
		}
		for _, kind := range []string{"handoff", "select2"} {
			run := handoff
			if kind == "select2" {
				run = select2
			}
			var ns []float64
			for r := 0; r < *warmup+*rounds; r++ {
				d := run(c, *n)
				if r >= *warmup {
					ns = append(ns, float64(d.Nanoseconds())/float64(*n))
				}
			}
			lo, hi := ns[0], ns[0]
			for _, x := range ns {
				if x < lo {
					lo = x
				}
				if x > hi {
					hi = x
				}
			}
			fmt.Printf("%-22s %12.1f %12.1f %12.1f\n",
				fmt.Sprintf("%s/capacity=%d", kind, c), median(ns), lo, hi)
		}
	}
}
