package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each source, stage and terminal does what its Javadoc says, in the simple case. */
@Timeout(30)
class StagesTest {
  private static final Context CTX = Context.background();

  private static List<Integer> ints(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 16, 256, 1024})
  void mapFilterMapGivesTheSequentialResultInOrder(int chunkSize) throws Exception {
    Pipeline.Options o =
        Pipeline.Options.defaults().withChunkSize(chunkSize).withBufferSize(chunkSize);

    List<Integer> got =
        Pipeline.range(0, 10_000)
            .map(x -> x * 3)
            .filter(x -> x % 2 == 0)
            .map(x -> x + 1)
            .withOptions(o)
            .toList(CTX)
            .value();

    assertEquals(
        IntStream.range(0, 10_000)
            .map(x -> x * 3)
            .filter(x -> x % 2 == 0)
            .map(x -> x + 1)
            .boxed()
            .toList(),
        got);
  }

  @Test
  void iterableSourceDeliversEveryItemInOrder() throws Exception {
    assertEquals(List.of("a", "b", "c"), Pipeline.from(List.of("a", "b", "c")).toList(CTX).value());
  }

  @Test
  void streamSourceIsClosedAtTheEnd() throws Exception {
    AtomicInteger closed = new AtomicInteger();
    Stream<Integer> s = ints(0, 5).stream().onClose(closed::incrementAndGet);

    List<Integer> got = Pipeline.from(s).toList(CTX).value();

    assertEquals(ints(0, 5), got);
    assertEquals(1, closed.get());
  }

  @Test
  void channelSourceReadsUntilCloseAndLeavesTheChannelToItsOwner() throws Exception {
    Channel<Integer> ch = Channel.buffered(4);
    Thread producer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    for (int i = 0; i < 100; i++) {
                      ch.send(i);
                    }
                    ch.close();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    List<Integer> got = Pipeline.from(ch).toList(CTX).value();
    producer.join();

    assertEquals(ints(0, 100), got);
  }

  @Test
  void generatorEmitsUntilItReturns() throws Exception {
    List<Integer> got =
        Pipeline.<Integer>generate(
                e -> {
                  for (int i = 0; i < 1000; i++) {
                    e.emit(i);
                  }
                })
            .toList(CTX)
            .value();

    assertEquals(ints(0, 1000), got);
  }

  @Test
  void flatMapExpandsEachItemInOrder() throws Exception {
    List<Integer> got =
        Pipeline.range(0, 4).flatMap(x -> java.util.Collections.nCopies(x, x)).toList(CTX).value();

    assertEquals(List.of(1, 2, 2, 3, 3, 3), got);
  }

  @Test
  void peekSeesEveryItemAndPassesItOn() throws Exception {
    List<Integer> seen = new ArrayList<>();

    List<Integer> got = Pipeline.range(0, 10).peek(seen::add).toList(CTX).value();

    assertEquals(ints(0, 10), got);
    assertEquals(ints(0, 10), seen);
  }

  @Test
  void mapParallelKeepsInputOrder() throws Exception {
    List<Integer> got =
        Pipeline.range(0, 2000)
            .mapParallel(
                50,
                x -> {
                  if (x % 7 == 0) {
                    Thread.yield();
                  }
                  return x * 2;
                })
            .toList(CTX)
            .value();

    assertEquals(IntStream.range(0, 2000).map(x -> x * 2).boxed().toList(), got);
  }

  @Test
  void mapParallelHoldsAWholeWindowOfLaterResultsWhileTheFirstItemWaitsAndKeepsOrder()
      throws Exception {
    // given a parallelism of 100: a window of 200 items between entering and leaving the stage
    int parallelism = 100;
    int later = 2 * parallelism - 1;
    AtomicInteger finished = new AtomicInteger();
    CountDownLatch allLaterDone = new CountDownLatch(1);

    // when the first item waits until every later item its window admits has finished
    List<Integer> got =
        Pipeline.range(0, 1000)
            .mapParallel(
                parallelism,
                x -> {
                  if (x == 0) {
                    allLaterDone.await();
                  } else if (finished.incrementAndGet() == later) {
                    allLaterDone.countDown();
                  }
                  return x;
                })
            .toList(CTX)
            .value();

    // then those results waited for it, and every result went out in input order
    assertEquals(ints(0, 1000), got);
  }

  @ParameterizedTest(name = "parallelism={0}")
  @ValueSource(ints = {1 << 30, Integer.MAX_VALUE})
  void mapParallelWithAVeryLargeParallelismCostsWhatItsItemsNeed(int parallelism) throws Exception {
    // a limit as "no limit": nothing sized by the limit itself (2 * parallelism overflows an int,
    // and an array of that many slots would not fit in the heap)
    for (boolean ordered : List.of(true, false)) {
      Pipeline<Integer> source = Pipeline.range(0, 3000);
      Pipeline<Integer> p =
          ordered
              ? source.mapParallel(parallelism, x -> x * 2)
              : source.mapParallelUnordered(parallelism, x -> x * 2);

      List<Integer> got = p.toList(CTX).value();

      List<Integer> expected = IntStream.range(0, 3000).map(x -> x * 2).boxed().toList();
      assertEquals(expected, ordered ? got : got.stream().sorted().toList());
    }
  }

  @ParameterizedTest(name = "ordered={0}")
  @ValueSource(booleans = {true, false})
  void mapParallelRunsUpToItsLimitAtOnceAndNeverMore(boolean ordered) throws Exception {
    int limit = 8;
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    CountDownLatch full = new CountDownLatch(limit);
    Pipeline.Fn<Integer, Integer> fn =
        x -> {
          most.accumulateAndGet(running.incrementAndGet(), Math::max);
          full.countDown();
          full.await(); // the first `limit` items wait for each other: the limit is reached
          for (int i = 0; i < 20; i++) {
            Thread.yield(); // stays running across scheduling points, where more could start
          }
          running.decrementAndGet();
          return x;
        };
    Pipeline<Integer> p = Pipeline.range(0, 3000);

    List<Integer> got =
        (ordered ? p.mapParallel(limit, fn) : p.mapParallelUnordered(limit, fn))
            .toList(CTX)
            .value();

    assertEquals(limit, most.get(), "at most, and at some point exactly, " + limit + " at once");
    assertEquals(ints(0, 3000), ordered ? got : got.stream().sorted().toList());
  }

  @ParameterizedTest(name = "ordered={0}")
  @ValueSource(booleans = {true, false})
  void mapParallelThreadsTakeTheReadyItemsThemselvesInsteadOfStartingOnePerItem(boolean ordered)
      throws Exception {
    // 8 items = the window (2 x the limit): 4 start and block, the other 4 wait ready, with no
    // permit for a fifth thread. When the 4 are let go they must run the ready 4 themselves.
    int limit = 4;
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    CountDownLatch full = new CountDownLatch(limit);
    Pipeline.Fn<Integer, Integer> fn =
        x -> {
          threads.add(Thread.currentThread());
          full.countDown();
          full.await();
          return x;
        };
    Pipeline<Integer> p = Pipeline.range(0, 2 * limit);

    List<Integer> got =
        (ordered ? p.mapParallel(limit, fn) : p.mapParallelUnordered(limit, fn))
            .toList(CTX)
            .value();

    assertEquals(ints(0, 2 * limit), ordered ? got : got.stream().sorted().toList());
    assertEquals(limit, threads.size(), "threads that ran the 8 items");
  }

  @ParameterizedTest(name = "ordered={0}")
  @ValueSource(booleans = {true, false})
  void mapParallelStartsOneThreadForOneItemWhateverItsLimit(boolean ordered) throws Exception {
    assertEquals(threadsStarted(0, ordered) + 1, threadsStarted(1, ordered));
  }

  private static int threadsStarted(int items, boolean ordered) throws Exception {
    AtomicInteger started = new AtomicInteger();
    ThreadFactory counting =
        r -> {
          started.incrementAndGet();
          return Thread.ofVirtual().unstarted(r);
        };
    Pipeline<Integer> p = Pipeline.range(0, items);
    (ordered ? p.mapParallel(64, x -> x) : p.mapParallelUnordered(64, x -> x))
        .withOptions(Pipeline.Options.defaults().withThreadFactory(counting))
        .toList(CTX);
    return started.get();
  }

  @ParameterizedTest(name = "ordered={0}")
  @ValueSource(booleans = {true, false})
  void mapParallelItemNeverSeesAnInterruptLeftByAnEarlierItemOnItsThread(boolean ordered)
      throws Exception {
    AtomicInteger sawInterrupt = new AtomicInteger();
    Pipeline.Fn<Integer, Integer> fn =
        x -> {
          if (Thread.currentThread().isInterrupted()) {
            sawInterrupt.incrementAndGet();
          }
          Thread.currentThread().interrupt(); // as a function that swallows and re-asserts does
          return x;
        };
    Pipeline<Integer> p = Pipeline.range(0, 5000);

    List<Integer> got =
        (ordered ? p.mapParallel(3, fn) : p.mapParallelUnordered(3, fn)).toList(CTX).value();

    assertEquals(ints(0, 5000), ordered ? got : got.stream().sorted().toList());
    assertEquals(0, sawInterrupt.get(), "items that started with the interrupt status set");
  }

  @Test
  void mapParallelUnorderedDeliversEveryResultOnce() throws Exception {
    List<Integer> got =
        Pipeline.range(0, 2000).mapParallelUnordered(50, x -> x * 2).toList(CTX).value();

    assertEquals(
        IntStream.range(0, 2000).map(x -> x * 2).boxed().toList(), got.stream().sorted().toList());
  }

  @Test
  void partitionByKeepsPerKeyOrderAndUsesOneWorkerPerKey() throws Exception {
    Map<Integer, String> workerOfKey = new ConcurrentHashMap<>();
    List<Integer> got =
        Pipeline.range(0, 5000)
            .partitionBy(
                x -> x % 10,
                4,
                x -> {
                  String me = Long.toString(Thread.currentThread().threadId());
                  String prev = workerOfKey.putIfAbsent(x % 10, me);
                  if (prev != null && !prev.equals(me)) {
                    throw new AssertionError("key " + (x % 10) + " on two workers");
                  }
                  return x;
                })
            .toList(CTX)
            .value();

    assertEquals(5000, got.size());
    for (int k = 0; k < 10; k++) {
      int key = k;
      List<Integer> perKey = got.stream().filter(x -> x % 10 == key).toList();
      assertEquals(perKey.stream().sorted().toList(), perKey);
    }
  }

  @Test
  void aBufferOfTheLargestSizeLetsTheSourceRunAheadOfAStalledConsumer() throws Exception {
    // given a buffer sized Integer.MAX_VALUE between a source of 1000 items and a consumer that
    // takes nothing more until the source has sent them all (edges elsewhere hold one chunk)
    Monitor monitor = Monitor.create();
    Pipeline<Integer> p =
        Pipeline.range(0, 1000)
            .buffer(Integer.MAX_VALUE)
            .withOptions(
                Pipeline.Options.defaults()
                    .withChunkSize(10)
                    .withBufferSize(10)
                    .withMonitor(monitor));

    // when
    Result<Long> r =
        p.forEach(
            CTX,
            x -> {
              if (x == 0) { // waits for ever if the buffer cannot hold the rest
                TrackingThreadFactory.awaitTrue(
                    () -> monitor.snapshot().stage("source").orElseThrow().out() == 1000);
              }
            });

    // then
    assertEquals(1000L, r.value());
  }

  @Test
  void takeEndsTheStreamAndStopsTheSource() throws Exception {
    AtomicInteger produced = new AtomicInteger();
    AtomicReference<Exception> endedBy = new AtomicReference<>();
    CountDownLatch sourceEnded = new CountDownLatch(1);
    List<Integer> got = new ArrayList<>();

    // The terminal holds the run open until the source has ended, so the run's own end cannot be
    // what stops the source: only take closing its input can.
    Result<Long> r =
        Pipeline.<Integer>generate(
                e -> {
                  try {
                    for (int i = 0; ; i++) {
                      produced.incrementAndGet();
                      e.emit(i);
                    }
                  } catch (InterruptedException | RuntimeException x) {
                    endedBy.set(x);
                    throw x;
                  } finally {
                    sourceEnded.countDown();
                  }
                })
            .take(5)
            .withOptions(Pipeline.Options.defaults().withChunkSize(1).withBufferSize(1))
            .forEach(
                CTX,
                x -> {
                  got.add(x);
                  if (x == 4) {
                    sourceEnded.await();
                  }
                });

    assertEquals(ints(0, 5), got);
    assertEquals(Outcome.COMPLETED, r.outcome());
    // the emit that failed was told that the pipeline takes no more items, not that it stopped
    assertInstanceOf(ChannelClosedException.class, endedBy.get().getCause(), endedBy.toString());
    // 5 taken, at most 3 held between the source and take (the generator's channel, the pump, the
    // edge: one item each with chunks of 1), and the emit that failed
    assertTrue(produced.get() <= 5 + 3 + 1, "produced " + produced);
  }

  @Test
  void batchGroupsBySizeAndFlushesTheRestAtTheEnd() throws Exception {
    List<List<Integer>> got =
        Pipeline.range(0, 10).batch(4, java.time.Duration.ofHours(1)).toList(CTX).value();

    assertEquals(List.of(ints(0, 4), ints(4, 8), ints(8, 10)), got);
  }

  @Test
  void reduceFoldsFromTheLeft() throws Exception {
    long sum = Pipeline.range(0, 1001).reduce(CTX, 0L, (a, x) -> a + x).value();

    assertEquals(500_500L, sum);
  }

  @Test
  void mergeDeliversEveryItemOfEveryInput() throws Exception {
    List<Integer> got =
        Pipeline.merge(Pipeline.range(0, 500), Pipeline.range(500, 1000)).toList(CTX).value();

    assertEquals(ints(0, 1000), got.stream().sorted().toList());
  }

  @Test
  void mergeKeepsTheOrderOfEachInput() throws Exception {
    // Three inputs whose items interleave in chunks: small chunks and buffers, and a slow input,
    // so the merged output mixes them; each input's items must still come out in their order.
    Pipeline.Options small = Pipeline.Options.defaults().withChunkSize(4).withBufferSize(8);
    List<Integer> got =
        Pipeline.merge(
                Pipeline.range(0, 5_000).withOptions(small),
                Pipeline.range(10_000, 15_000).withOptions(small),
                Pipeline.range(20_000, 20_500).withOptions(small).peek(x -> Thread.yield()))
            .toList(CTX)
            .value();

    assertEquals(10_500, got.size());
    for (int input = 0; input < 3; input++) {
      int base = input * 10_000;
      List<Integer> mine = got.stream().filter(x -> x >= base && x < base + 10_000).toList();
      assertEquals(ints(base, base + (input == 2 ? 500 : 5_000)), mine, "input " + input);
    }
  }

  @Test
  void broadcastGivesEveryItemToEverySink() throws Exception {
    List<Integer> a = new CopyOnWriteArrayList<>();
    List<Integer> b = new CopyOnWriteArrayList<>();

    Result<Long> r = Pipeline.range(0, 1000).broadcast(CTX, List.of(a::addAll, b::addAll));

    assertEquals(1000L, r.value());
    assertEquals(ints(0, 1000), a);
    assertEquals(ints(0, 1000), b);
  }

  @Test
  void splitRoutesEachItemToOneBranchWithItsOwnStages() throws Exception {
    List<Integer> evens = new CopyOnWriteArrayList<>();
    List<String> odds = new CopyOnWriteArrayList<>();

    Pipeline.range(0, 100)
        .split(
            CTX,
            x -> x % 2,
            List.of(
                Sink.<Integer>each(evens::add),
                Sink.<Integer, String>through(p -> p.map(x -> "odd" + x), odds::addAll)));

    assertEquals(IntStream.range(0, 100).filter(x -> x % 2 == 0).boxed().toList(), evens);
    assertEquals(
        IntStream.range(0, 100).filter(x -> x % 2 == 1).mapToObj(x -> "odd" + x).toList(), odds);
  }

  @Test
  void aSinkGetsEveryItemInOrderInBatchesOfAtMostItsMaxBatch() throws Exception {
    List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    Sink<Integer> sink =
        new Sink<>() {
          @Override
          public void write(List<Integer> batch) {
            batches.add(batch);
          }

          @Override
          public int maxBatch() {
            return 7;
          }
        };

    Result<Long> r = Pipeline.range(0, 100).to(CTX, sink);

    assertEquals(100L, r.value());
    assertEquals(ints(0, 100), batches.stream().flatMap(List::stream).toList());
    for (List<Integer> b : batches) {
      org.junit.jupiter.api.Assertions.assertTrue(!b.isEmpty() && b.size() <= 7, b.toString());
    }
  }

  @Test
  void toChannelSendsEveryItemAndClosesTheChannelNormally() throws Exception {
    Channel<Integer> out = Channel.unlimited();

    Result<Long> r = Pipeline.range(0, 50).toChannel(CTX, out);

    assertEquals(50L, r.value());
    List<Integer> got = new ArrayList<>();
    for (Integer x : out) {
      got.add(x);
    }
    assertEquals(ints(0, 50), got);
  }

  @Test
  void mergeChannelsReadsEveryChannelUntilItIsClosed() throws Exception {
    Channel<Integer> a = Channel.unlimited();
    Channel<Integer> b = Channel.unlimited();
    for (int i = 0; i < 10; i++) {
      a.send(i);
      b.send(100 + i);
    }
    a.close();
    b.close();

    List<Integer> got = Pipeline.<Integer>mergeChannels(List.of(a, b)).toList(CTX).value();

    List<Integer> expected = new ArrayList<>(ints(0, 10));
    expected.addAll(ints(100, 110));
    assertEquals(expected, got.stream().sorted().toList());
  }

  @Test
  void limitIsTakeUnderItsOwnName() throws Exception {
    Result<List<Integer>> r = Pipeline.range(0, 1000).limit(3).toList(CTX);

    assertEquals(ints(0, 3), r.value());
    assertEquals(3, r.report().stage("limit").orElseThrow().out());
  }

  @Test
  void aMonitorBeforeAnyRunShowsNoStages() {
    Report r = Monitor.create().snapshot();

    assertEquals(Outcome.RUNNING, r.outcome());
    assertEquals(List.of(), r.stages());
  }

  @Test
  void mapParallelWithoutAParallelismRunsOneItemPerProcessorAtOnce() throws Exception {
    for (boolean ordered : new boolean[] {true, false}) {
      int n = Runtime.getRuntime().availableProcessors();
      AtomicInteger inside = new AtomicInteger();
      AtomicInteger most = new AtomicInteger();
      CountDownLatch allIn = new CountDownLatch(n); // opens only once n items are inside at once
      Pipeline.Fn<Integer, Integer> fn =
          x -> {
            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
            allIn.countDown();
            allIn.await();
            inside.decrementAndGet();
            return x * 2;
          };
      Pipeline<Integer> p = Pipeline.range(0, 4 * n);

      List<Integer> got =
          (ordered ? p.mapParallel(fn) : p.mapParallelUnordered(fn)).toList(CTX).value();

      assertEquals(n, most.get(), "most items inside at once");
      List<Integer> expected = IntStream.range(0, 4 * n).map(x -> x * 2).boxed().toList();
      assertEquals(expected, ordered ? got : got.stream().sorted().toList());
    }
  }
}
