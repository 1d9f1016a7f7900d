package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreException;
import io.sluice.server.objects.FilesystemObjectStore;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A payload request that passed the shutdown check just before a stop began, and reaches the job
 * store after the stop closed it: nothing is accepted, and the client is told the service is
 * shutting down (503 shutting_down, retry elsewhere), not that the journal failed, which would send
 * an operator looking for a broken disk. Real port, real journal; the store is held (a proxy around
 * the real one) between the request's check and its submit until the stop has closed it. The closed
 * store refuses the batch; when the close comes later still, between the store's admission and its
 * journal append, the store throws instead (the journal is closed): that narrower race is injected,
 * the proxy throwing after the close what the store throws then.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DrainRaceTest {
  @TempDir Path dataDir;

  @Test
  void aPayloadThatReachesTheStoreAfterTheStopClosedItIsRefusedAsShuttingDown() throws Exception {
    refusedAsShuttingDown(false);
  }

  @Test
  void aPayloadWhoseJournalAppendFindsTheJournalClosedIsRefusedAsShuttingDown() throws Exception {
    refusedAsShuttingDown(true);
  }

  private void refusedAsShuttingDown(boolean journalClosedMidSubmit) throws Exception {
    // given: a service whose store holds each submit until the store has been closed
    CountDownLatch inSubmit = new CountDownLatch(1);
    CountDownLatch storeClosed = new CountDownLatch(1);
    SluiceServer.StoreOpener holdsSubmits =
        options ->
            heldUntilClosed(JobStore.open(options), inSubmit, storeClosed, journalClosedMidSubmit);
    ServerConfig config =
        ServerConfig.defaults(dataDir).withPort(0).withShutdownGrace(Duration.ZERO);
    AtomicInteger port = new AtomicInteger();
    SluiceServer server =
        SluiceServer.start(
            config,
            FilesystemObjectStore.open(dataDir.resolve("objects")),
            new SluiceServer.StartObserver() {
              @Override
              public void listening(int p) {
                port.set(p);
              }
            },
            holdsSubmits);
    try (HttpClient client = HttpClient.newHttpClient()) {
      CompletableFuture<HttpResponse<String>> answer =
          client.sendAsync(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port.get() + "/v1/payloads"))
                  .header("Content-Type", "application/json")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"payloads\":[{\"n\":1}]}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString(UTF_8));
      assertTrue(inSubmit.await(10, TimeUnit.SECONDS), "the request to reach the store");

      // when: the service stops (closing the store) while that request is on its way in
      Thread stopping = Thread.ofVirtual().start(server::stop);

      // then: it is refused as the service shutting down
      HttpResponse<String> response = answer.get(20, TimeUnit.SECONDS);
      assertEquals(503, response.statusCode(), response.body());
      assertTrue(response.body().contains("\"error\":\"shutting_down\""), response.body());
      stopping.join(Duration.ofSeconds(20));
    } finally {
      server.stop();
    }
  }

  /**
   * {@code store}, whose submits wait (after saying so) until it has been closed, then go on, or
   * with {@code throwClosed} fail as a submit does whose journal append found the journal closed.
   */
  private static JobStore heldUntilClosed(
      JobStore store, CountDownLatch inSubmit, CountDownLatch closed, boolean throwClosed) {
    return (JobStore)
        Proxy.newProxyInstance(
            JobStore.class.getClassLoader(),
            new Class<?>[] {JobStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("submit")) {
                inSubmit.countDown();
                Latches.awaitUninterruptibly(closed);
                if (throwClosed) {
                  throw new JobStoreException(
                      "the job store is closed, so this change was not recorded (a submitted batch"
                          + " is not accepted)",
                      new IllegalStateException("the journal is closed"));
                }
              }
              try {
                return method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              } finally {
                if (method.getName().equals("close")) {
                  closed.countDown();
                }
              }
            });
  }
}
