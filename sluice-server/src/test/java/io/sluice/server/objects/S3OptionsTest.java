package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class S3OptionsTest {

  private static final S3Options BASE = S3Options.forBucket("b");

  @Test
  void theDefaultsAreTheDocumentedOnes() {
    assertEquals("b", BASE.bucket());
    assertEquals("", BASE.prefix());
    assertEquals(Optional.empty(), BASE.region());
    assertEquals(Optional.empty(), BASE.endpoint());
    assertFalse(BASE.pathStyle());
    assertEquals(Optional.empty(), BASE.accessKeyId());
    assertEquals(Optional.empty(), BASE.secretAccessKey());
    assertEquals(Duration.ofSeconds(2), BASE.connectTimeout());
    assertEquals(Duration.ofSeconds(30), BASE.callTimeout());
    assertEquals(Duration.ofSeconds(10), BASE.attemptTimeout());
    assertEquals(1, BASE.maxSdkRetries());
    assertEquals(64, BASE.maxConnections());
  }

  @Test
  void eachWithMethodChangesItsOptionOnlyAndLeavesTheOriginalAlone() {
    S3Options all =
        BASE.withBucket("c")
            .withPrefix("p/q/")
            .withRegion("eu-west-1")
            .withEndpoint(URI.create("https://s3.example.test:9000"))
            .withPathStyle(true)
            .withCredentials("AKID", "SECRET")
            .withConnectTimeout(Duration.ofMillis(100))
            .withCallTimeout(Duration.ofSeconds(60))
            .withAttemptTimeout(Duration.ofSeconds(5))
            .withMaxSdkRetries(0)
            .withMaxConnections(8);

    assertEquals(
        new S3Options(
            "c",
            "p/q/",
            Optional.of("eu-west-1"),
            Optional.of(URI.create("https://s3.example.test:9000")),
            true,
            Optional.of("AKID"),
            Optional.of("SECRET"),
            Duration.ofMillis(100),
            Duration.ofSeconds(60),
            Duration.ofSeconds(5),
            0,
            8),
        all);
    assertEquals(S3Options.forBucket("b"), BASE);
    assertEquals(Optional.empty(), all.withDefaultCredentials().accessKeyId());
    assertEquals(Optional.empty(), all.withDefaultCredentials().secretAccessKey());
    assertEquals(
        Duration.ofSeconds(1),
        BASE.withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(500)).callTimeout());
  }

  @Test
  void toStringMasksTheSecret() {
    String text = BASE.withCredentials("AKID", "very-secret").toString();
    assertTrue(text.contains("AKID"), text);
    assertFalse(text.contains("very-secret"), text);
    assertTrue(text.contains("secretAccessKey=****"), text);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "a/b", "a b", "tab\tbucket"})
  void aBucketNameThatCannotBeABucketIsRejected(String bucket) {
    var e = assertThrows(IllegalArgumentException.class, () -> S3Options.forBucket(bucket));
    assertTrue(e.getMessage().startsWith("S3 bucket name"), e.getMessage());
  }

  @Test
  void thePrefixIsValidated() {
    assertThrows(InvalidObjectKeyException.class, () -> BASE.withPrefix("no-slash"));
    assertThrows(InvalidObjectKeyException.class, () -> BASE.withPrefix("/abs/"));
    assertThrows(InvalidObjectKeyException.class, () -> BASE.withPrefix("../up/"));
  }

  @Test
  void credentialsComeInPairs() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () ->
                new S3Options(
                    "b",
                    "",
                    Optional.empty(),
                    Optional.empty(),
                    false,
                    Optional.of("AKID"),
                    Optional.empty(),
                    BASE.connectTimeout(),
                    BASE.callTimeout(),
                    BASE.attemptTimeout(),
                    1,
                    64));
    assertTrue(e.getMessage().contains("set both, or neither"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"ftp://host", "relative/path", "http:///nohost", "mailto:a@b"})
  void anEndpointMustBeAnAbsoluteHttpUriWithAHost(String endpoint) {
    var e =
        assertThrows(IllegalArgumentException.class, () -> BASE.withEndpoint(URI.create(endpoint)));
    assertTrue(e.getMessage().contains("not an absolute http or https URI"), e.getMessage());
  }

  @Test
  void timeoutsMustBePositiveAndTheAttemptNoLongerThanTheCall() {
    for (UnaryOperator<S3Options> bad :
        java.util.List.<UnaryOperator<S3Options>>of(
            o -> o.withConnectTimeout(Duration.ZERO),
            o -> o.withCallTimeout(Duration.ofSeconds(-1)),
            o -> o.withAttemptTimeout(Duration.ZERO),
            o -> o.withAttemptTimeout(Duration.ofSeconds(31)),
            o -> o.withCallTimeout(Duration.ofSeconds(9)))) {
      assertThrows(IllegalArgumentException.class, () -> bad.apply(BASE));
    }
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> BASE.withAttemptTimeout(Duration.ofMinutes(1)));
    assertTrue(e.getMessage().contains("longer than callTimeout"), e.getMessage());
  }

  @Test
  void sdkRetriesAreBoundedAndTheHelpSaysWhy() {
    assertEquals(10, BASE.withMaxSdkRetries(10).maxSdkRetries());
    var e = assertThrows(IllegalArgumentException.class, () -> BASE.withMaxSdkRetries(11));
    assertTrue(e.getMessage().contains("the job engine retries"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> BASE.withMaxSdkRetries(-1));
  }

  @Test
  void thePoolHasAtLeastOneConnection() {
    assertThrows(IllegalArgumentException.class, () -> BASE.withMaxConnections(0));
  }

  @Test
  void aBlankRegionIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> BASE.withRegion(" "));
  }
}
