package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ServerConfigTest {

  private final ServerConfig defaults = ServerConfig.defaults(Path.of("data"));

  @Test
  void aTokenNoAuthorizationHeaderCouldCarryExactlyIsRejectedNamingTheOption() {
    for (String bad : new String[] {"p\u00e4ssw\u00f6rd", " s3cret", "s3cret ", "s3\tcret"}) {
      var e = assertThrows(IllegalArgumentException.class, () -> defaults.withToken(bad));
      assertTrue(e.getMessage().contains("--token must be visible ASCII"), e.getMessage());
    }
    assertEquals("a-Z.0_9~+/=!", defaults.withToken("a-Z.0_9~+/=!").token().orElseThrow());
  }

  @Test
  void theRetryDelayDefaultsToTheJobEnginesOneSecond() {
    assertEquals(Duration.ofSeconds(1), defaults.retryDelay());
  }

  @Test
  void aRetryDelayFromZeroToFiveMinutesIsKept() {
    assertEquals(Duration.ZERO, defaults.withRetryDelay(Duration.ZERO).retryDelay());
    assertEquals(
        Duration.ofMinutes(5), defaults.withRetryDelay(Duration.ofMinutes(5)).retryDelay());
  }

  @Test
  void aNegativeOrLongerRetryDelayIsRejectedSayingTheRange() {
    for (Duration bad :
        new Duration[] {Duration.ofMillis(-1), Duration.ofMinutes(5).plusNanos(1)}) {
      var e = assertThrows(IllegalArgumentException.class, () -> defaults.withRetryDelay(bad));
      assertTrue(e.getMessage().contains("retry delay must be in 0..PT5M"), e.getMessage());
    }
  }

  @Test
  void anInFlightBodyBudgetSmallerThanOneBodyIsRejectedNamingBothOptions() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> defaults.withMaxInflightBodyBytes(defaults.maxBodyBytes() - 1L));
    assertTrue(e.getMessage().contains("--max-inflight-body-bytes"), e.getMessage());
    assertTrue(e.getMessage().contains("--max-body-bytes"), e.getMessage());
  }

  @Test
  void anInFlightBodyBudgetWhoseThreeQuartersCannotHoldTheLargestBodyIsRejectedSayingTheLeast() {
    // 1 MiB bodies: large ones may use three quarters of the budget, so it needs 4/3 MiB
    long least = 1_398_101;

    var e =
        assertThrows(
            IllegalArgumentException.class, () -> defaults.withMaxInflightBodyBytes(least - 1));

    assertTrue(
        e.getMessage().contains("must be at least 4/3 of --max-body-bytes (1048576), 1398101"),
        e.getMessage());
    assertTrue(e.getMessage().contains("three quarters"), e.getMessage());
    assertEquals(least, defaults.withMaxInflightBodyBytes(least).maxInflightBodyBytes());
  }

  @Test
  void theHeaderTimeoutDefaultsToTenSeconds() {
    assertEquals(Duration.ofSeconds(10), defaults.headerTimeout());
    assertEquals(ServerConfig.DEFAULT_HEADER_TIMEOUT, defaults.headerTimeout());
  }

  @Test
  void aZeroOrNegativeHeaderTimeoutIsRejectedNamingTheOption() {
    for (Duration bad : new Duration[] {Duration.ZERO, Duration.ofMillis(-1)}) {
      var e = assertThrows(IllegalArgumentException.class, () -> defaults.withHeaderTimeout(bad));
      assertTrue(e.getMessage().contains("--header-timeout must be positive"), e.getMessage());
      assertTrue(e.getMessage().contains("got " + bad.toMillis() + " ms"), e.getMessage());
    }
    assertEquals(
        Duration.ofMillis(1), defaults.withHeaderTimeout(Duration.ofMillis(1)).headerTimeout());
  }

  @Test
  void fewerThanOneConnectionIsRejected() {
    var e = assertThrows(IllegalArgumentException.class, () -> defaults.withMaxConnections(0));
    assertTrue(e.getMessage().contains("--max-connections"), e.getMessage());
  }
}
