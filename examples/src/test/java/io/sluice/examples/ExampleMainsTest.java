package io.sluice.examples;

import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every example's {@code main} runs to its end, as a user would run it. */
class ExampleMainsTest {

  @ParameterizedTest
  @ValueSource(
      classes = {
        SimplePipeline.class,
        ClosedChannelLoop.class,
        GracefulShutdown.class,
        FanOutFanIn.class,
        DeadlockDiagnosed.class,
        Scheduling.class,
        ScheduledJobs.class,
        BoundedConcurrency.class,
        LazyOnce.class,
        PipelineFanOut.class,
        PipelineErrorChannel.class,
        PipelineBoundedStep.class,
        WorkerPool.class,
        DurableJobQueue.class,
        Panics.class,
        DirectIo.class,
        FunctionalOptions.class
      })
  @Timeout(60)
  void mainRunsToItsEnd(Class<?> example) throws Throwable {
    try {
      example.getMethod("main", String[].class).invoke(null, (Object) new String[0]);
    } catch (java.lang.reflect.InvocationTargetException e) {
      throw e.getCause();
    }
  }
}
