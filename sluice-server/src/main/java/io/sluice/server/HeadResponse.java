package io.sluice.server;

import io.helidon.common.uri.UriQuery;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.ServerResponseTrailers;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerResponse;
import java.io.OutputStream;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/*
 * The response to a HEAD request, handed to the route that serves GET (Http.handle): what GET would
 * send, without the body (RFC 9110, section 9.3.2). Helidon 4.5 does not do this itself: its HTTP/1
 * response writes whatever entity it is given, whatever the request's method. So the bytes a route
 * sends become their length only: Content-Length says what GET would send, and the headers end the
 * answer. (Helidon keeps a Content-Length that is set, rather than counting the bytes it writes.)
 * The routes send their answers as bytes; the ways to send an entity Helidon would write or stream
 * are refused, so a body cannot slip out through them.
 */
final class HeadResponse implements ServerResponse {
  private final ServerResponse response;

  HeadResponse(ServerResponse response) {
    this.response = response;
  }

  @Override
  public void send(byte[] bytes) {
    send(bytes, 0, bytes.length);
  }

  @Override
  public void send(byte[] bytes, int position, int length) {
    response.header(HeaderNames.CONTENT_LENGTH, Integer.toString(length));
    response.send();
  }

  @Override
  public void send() {
    response.send();
  }

  @Override
  public void send(Object entity) {
    throw new UnsupportedOperationException("a HEAD answer is sent as bytes (their length only)");
  }

  @Override
  public OutputStream outputStream() {
    throw new UnsupportedOperationException("a HEAD answer is sent as bytes (their length only)");
  }

  @Override
  public ServerResponse status(Status status) {
    response.status(status);
    return this;
  }

  @Override
  public Status status() {
    return response.status();
  }

  @Override
  public ServerResponse header(Header header) {
    response.header(header);
    return this;
  }

  @Override
  public boolean isSent() {
    return response.isSent();
  }

  @Override
  public long bytesWritten() {
    return response.bytesWritten();
  }

  @Override
  public ServerResponse beforeSend(Runnable beforeSendHandler) {
    response.beforeSend(beforeSendHandler);
    return this;
  }

  @Override
  public ServerResponse whenSent(Runnable listener) {
    response.whenSent(listener);
    return this;
  }

  @Override
  public ServerResponse reroute(String newPath) {
    response.reroute(newPath);
    return this;
  }

  @Override
  public ServerResponse reroute(String path, UriQuery query) {
    response.reroute(path, query);
    return this;
  }

  @Override
  public ServerResponse next() {
    response.next();
    return this;
  }

  @Override
  public ServerResponseHeaders headers() {
    return response.headers();
  }

  @Override
  public ServerResponseTrailers trailers() {
    return response.trailers();
  }

  @Override
  public ServerResponse beforeTrailers(Consumer<ServerResponseTrailers> trailersConsumer) {
    response.beforeTrailers(trailersConsumer);
    return this;
  }

  @Override
  public void streamResult(String result) {
    response.streamResult(result);
  }

  @Override
  public void streamFilter(UnaryOperator<OutputStream> filterFunction) {
    response.streamFilter(filterFunction);
  }
}
