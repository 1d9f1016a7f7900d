module sluice.io/bench

go 1.19
