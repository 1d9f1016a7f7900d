package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.examples.FunctionalOptions.Server;
import io.sluice.examples.FunctionalOptions.ServerOptions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Options as immutable values: documented defaults, one setting per with, invalid values fail at
 * once.
 */
class FunctionalOptionsTest {

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    ServerOptions d = ServerOptions.defaults();

    assertEquals(Duration.ofSeconds(3), d.readTimeout());
    assertEquals(Duration.ofSeconds(10), d.writeTimeout());
    assertEquals(1 << 20, d.maxBodyBytes());
    assertFalse(d.cache());
  }

  @Test
  void aWithChangesOneSettingAndLeavesTheOriginalAlone() {
    ServerOptions d = ServerOptions.defaults();

    ServerOptions slow = d.withReadTimeout(Duration.ofSeconds(30));

    assertEquals(Duration.ofSeconds(30), slow.readTimeout());
    assertEquals(
        new ServerOptions(Duration.ofSeconds(30), d.writeTimeout(), d.maxBodyBytes(), d.cache()),
        slow);
    assertEquals(ServerOptions.defaults(), d, "the defaults it came from are unchanged");
  }

  @Test
  void anInvalidSettingFailsWhereItIsWrittenNamingTheSetting() {
    ServerOptions d = ServerOptions.defaults();

    IllegalArgumentException read =
        assertThrows(
            IllegalArgumentException.class, () -> d.withReadTimeout(Duration.ofSeconds(-5)));
    IllegalArgumentException write =
        assertThrows(IllegalArgumentException.class, () -> d.withWriteTimeout(Duration.ZERO));
    IllegalArgumentException body =
        assertThrows(IllegalArgumentException.class, () -> d.withMaxBodyBytes(0));

    assertTrue(read.getMessage().startsWith("readTimeout must be positive"), read.getMessage());
    assertTrue(write.getMessage().startsWith("writeTimeout must be positive"), write.getMessage());
    assertTrue(body.getMessage().startsWith("maxBodyBytes must be at least 1"), body.getMessage());
    assertThrows(NullPointerException.class, () -> d.withReadTimeout(null));
  }

  @Test
  void aPresetIsASharedValueThatServersStartFromWithoutChangingIt() {
    ServerOptions before = FunctionalOptions.LOW_LATENCY;

    Server a = Server.open(":1", FunctionalOptions.LOW_LATENCY);
    Server b = Server.open(":2", FunctionalOptions.LOW_LATENCY.withMaxBodyBytes(1024));

    assertEquals(before, FunctionalOptions.LOW_LATENCY);
    assertEquals(Duration.ofMillis(500), a.options().readTimeout());
    assertTrue(a.options().cache());
    assertEquals(1024, b.options().maxBodyBytes());
    assertEquals(a.options().readTimeout(), b.options().readTimeout());
    assertNotEquals(a.options(), b.options());
  }

  @Test
  void theOptionsDescribeEverySettingLikeTheSeedsStringer() {
    String text = ServerOptions.defaults().withCache(true).toString();

    assertEquals(
        "ServerOptions[readTimeout=PT3S, writeTimeout=PT10S, maxBodyBytes=1048576, cache=true]",
        text);
  }
}
