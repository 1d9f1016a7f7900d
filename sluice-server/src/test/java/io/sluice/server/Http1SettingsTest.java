package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1LoggingConnectionListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The HTTP/1 settings the service gives Helidon: its defaults, with the header deadline. */
class Http1SettingsTest {

  @Test
  void theServicesHttp1SettingsAreHelidonsDefaultsWithTheHeaderDeadlinesListenersAdded() {
    HeaderDeadline deadline =
        new HeaderDeadline(
            io.sluice.core.Clock.system(), Duration.ofSeconds(1), new ServerMetrics());
    Http1Config helidons =
        (Http1Config) WebServer.builder().buildPrototype().protocols().getFirst();

    Http1Config ours = SluiceServer.http1(deadline);

    // the only HTTP/1 settings of the server, in place of Helidon's own
    assertEquals(List.of(ours), WebServer.builder().addProtocol(ours).buildPrototype().protocols());
    assertEquals(helidons.name(), ours.name());
    assertEquals(helidons.maxPrologueLength(), ours.maxPrologueLength());
    assertEquals(helidons.maxHeadersSize(), ours.maxHeadersSize());
    assertEquals(helidons.validatePrologue(), ours.validatePrologue());
    assertEquals(helidons.validatePath(), ours.validatePath());
    assertEquals(helidons.validateRequestHeaders(), ours.validateRequestHeaders());
    assertEquals(helidons.validateResponseHeaders(), ours.validateResponseHeaders());
    assertEquals(helidons.sendKeepAliveHeader(), ours.sendKeepAliveHeader());
    assertEquals(helidons.continueImmediately(), ours.continueImmediately());
    assertEquals(helidons.maxBufferedEntitySize(), ours.maxBufferedEntitySize());
    assertEquals(helidons.log(), ours.log());
    // one listener each way (Helidon drops the events of a list of several): Helidon's wire
    // logging first, then the deadline
    SluiceServer.BothListeners receive =
        assertInstanceOf(SluiceServer.BothListeners.class, ours.compositeReceiveListener());
    assertInstanceOf(Http1LoggingConnectionListener.class, receive.first());
    assertSame(deadline.receiveListener(), receive.second());
    SluiceServer.BothListeners send =
        assertInstanceOf(SluiceServer.BothListeners.class, ours.compositeSendListener());
    assertInstanceOf(Http1LoggingConnectionListener.class, send.first());
    assertSame(deadline.sendListener(), send.second());
  }

  @Test
  void bothListenersGiveEveryEventToTheFirstThenToTheSecond() {
    List<String> events = new ArrayList<>();
    SluiceServer.BothListeners both =
        new SluiceServer.BothListeners(recording("first", events), recording("second", events));

    both.prologue(null, null);
    both.headers(null, null);
    both.data(null, BufferData.empty());
    both.data(null, new byte[1], 0, 1);
    both.status(null, Status.OK_200);

    assertEquals(
        List.of(
            "first prologue",
            "second prologue",
            "first headers",
            "second headers",
            "first data",
            "second data",
            "first bytes",
            "second bytes",
            "first status",
            "second status"),
        events);
  }

  private static Http1ConnectionListener recording(String name, List<String> events) {
    return new Http1ConnectionListener() {
      @Override
      public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        events.add(name + " prologue");
      }

      @Override
      public void headers(ConnectionContext ctx, Headers headers) {
        events.add(name + " headers");
      }

      @Override
      public void status(ConnectionContext ctx, Status status) {
        events.add(name + " status");
      }

      @Override
      public void data(ConnectionContext ctx, BufferData data) {
        events.add(name + " data");
      }

      @Override
      public void data(ConnectionContext ctx, byte[] bytes, int offset, int length) {
        events.add(name + " bytes");
      }
    };
  }
}
