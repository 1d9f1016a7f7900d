package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each example runs to its documented end: no deadlock, no busy loop, errors reported. */
@Timeout(30)
class ExamplesTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private List<String> lines() {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void simplePipelinePrintsEveryValueAndEnds() {
    SimplePipeline.sink(SimplePipeline.producer(List.of("foo", "bar", "bax")), out);

    assertEquals(List.of("foo", "bar", "bax"), lines());
  }

  @Test
  void closedChannelLoopStopsAtTheEndOfTheStream() throws Exception {
    Channel<String> ch = Channel.buffered(2);
    ch.send("foo");
    ch.send("bar");
    ch.close();

    int logged = ClosedChannelLoop.sink(Context.background(), ch, out);

    assertEquals(2, logged);
    assertEquals(List.of("foo", "bar", "done"), lines());
  }

  @Test
  void closedChannelLoopReportsTheProducersError() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.close(new IllegalStateException("disk full"));

    ClosedChannelLoop.sink(Context.background(), ch, out);

    assertEquals(List.of("done with error: java.lang.IllegalStateException: disk full"), lines());
  }

  @Test
  void fanOutFanInTransformsEveryValue() throws Exception {
    List<String> got =
        FanOutFanIn.run(List.of("FOO", "BAR", "BAX", "QUX"), 4, FanOutFanIn::title, out);

    assertEquals(List.of("Bar", "Bax", "Foo", "Qux"), got.stream().sorted().toList());
    assertEquals("done", lines().getLast());
  }

  @Test
  void fanOutFanInStopsAndReportsAFailingStage() throws Exception {
    FanOutFanIn.run(
        List.of("FOO", "BAR", "BAX"),
        2,
        s -> {
          if (s.equals("foo")) {
            throw new IllegalArgumentException("oh no");
          }
          return FanOutFanIn.title(s);
        },
        out);

    assertTrue(
        lines().getLast().equals("error: oh no; cancelling the pipeline"),
        () -> "output was " + lines());
  }
}
