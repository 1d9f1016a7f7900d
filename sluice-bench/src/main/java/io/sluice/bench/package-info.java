/** JMH benchmarks of Sluice and its peers; run with {@code scripts/bench.sh}. */
package io.sluice.bench;
