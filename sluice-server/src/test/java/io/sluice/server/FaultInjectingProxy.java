package io.sluice.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fault-injecting HTTP/1.1 proxy on loopback in front of an S3 server, for tests.
 *
 * <p>It forwards each request byte for byte (the {@code Host} header included, so SigV4 signatures
 * stay valid), one request per connection: it adds {@code Connection: close} to the request and to
 * the answer, so every request the SDK makes arrives on a connection of its own and the proxy never
 * has to find where a kept-alive answer ends. {@code PUT}s of objects can be faulted: the first
 * {@code n} PUTs of each key (counted per key, so concurrent uploads do not steal each other's
 * faults) get the configured {@link Fault}. Requests on the bucket itself ({@code HeadBucket}, the
 * store's startup check) can be faulted on their own. The rest pass.
 */
final class FaultInjectingProxy implements AutoCloseable {

  /*
   * One virtual thread accepts, one virtual thread per connection reads the request head up to the
   * blank line and then Content-Length bytes of body (the store sends no chunked bodies and no
   * Expect: 100-continue; a request that does fails the test through unexpected()), decides, and
   * answers. A held answer waits for the client to give up: a read on the client's socket that
   * returns -1 or fails when the SDK times out and closes it. Nothing here waits on a clock.
   */

  /** What the proxy does with a faulted PUT. */
  enum Fault {
    /** Answers {@code 500 InternalError} in S3's XML, without forwarding. */
    INTERNAL_ERROR,
    /** Answers {@code 503 ServiceUnavailable} in S3's XML, without forwarding. */
    SERVICE_UNAVAILABLE,
    /** Reads the request and resets the connection (RST) without answering or forwarding. */
    RESET,
    /** Answers {@code 403 AccessDenied} in S3's XML, without forwarding: a refusal. */
    ACCESS_DENIED,
    /**
     * Forwards the request (so the object is stored) but holds the answer until the client gives up
     * and closes the connection: a response slower than any timeout.
     */
    HOLD_ANSWER
  }

  private final ServerSocket listener;
  private final int upstreamPort;
  private final Thread acceptor;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Map<String, AtomicInteger> putsByPath = new ConcurrentHashMap<>();
  private final List<String> unexpected = new CopyOnWriteArrayList<>();
  private final AtomicInteger heldNow = new AtomicInteger();
  private volatile Fault fault = Fault.SERVICE_UNAVAILABLE;
  private volatile int faultedPutsPerKey;
  private volatile Fault bucketFault;

  private FaultInjectingProxy(ServerSocket listener, int upstreamPort) {
    this.listener = listener;
    this.upstreamPort = upstreamPort;
    this.acceptor = Thread.ofVirtual().name("fault-proxy-accept").start(this::acceptLoop);
  }

  /**
   * Starts a proxy on a free loopback port, passing everything until told otherwise.
   *
   * @param upstreamPort the S3 server's port on 127.0.0.1
   */
  static FaultInjectingProxy start(int upstreamPort) throws IOException {
    ServerSocket listener = new ServerSocket();
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    return new FaultInjectingProxy(listener, upstreamPort);
  }

  /** The endpoint to give the S3 client. */
  URI endpoint() {
    return URI.create("http://127.0.0.1:" + listener.getLocalPort());
  }

  /**
   * From now on the first {@code n} PUTs of each key (counting those already seen) get {@code f}.
   */
  void faultFirstPutsOfEachKey(int n, Fault f) {
    fault = f;
    faultedPutsPerKey = n;
  }

  /** From now on every PUT gets {@code f}. */
  void faultEveryPut(Fault f) {
    faultFirstPutsOfEachKey(Integer.MAX_VALUE, f);
  }

  /**
   * From now on every request on the bucket itself ({@code HeadBucket}, the startup check) gets
   * {@code f}. The error answers' bodies are sent to a HEAD too, which a client reads as no body.
   */
  void faultBucketRequests(Fault f) {
    bucketFault = f;
  }

  /** From now on every request passes. */
  void heal() {
    faultedPutsPerKey = 0;
    bucketFault = null;
  }

  /**
   * The PUTs the proxy has seen for a key, faulted or not.
   *
   * @param bucket the bucket
   * @param key the key, as the store was given it (ASCII keys only: the path is matched raw)
   */
  int puts(String bucket, String key) {
    AtomicInteger n = putsByPath.get("/" + bucket + "/" + key);
    return n == null ? 0 : n.get();
  }

  /** Requests the proxy could not handle as a test expects (chunked bodies, 100-continue ...). */
  List<String> unexpected() {
    return List.copyOf(unexpected);
  }

  /** Answers being held right now. */
  int held() {
    return heldNow.get();
  }

  @Override
  public void close() throws IOException {
    listener.close();
    for (Socket s : open) {
      s.close();
    }
    try {
      acceptor.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void acceptLoop() {
    while (!listener.isClosed()) {
      Socket client;
      try {
        client = listener.accept();
      } catch (IOException e) {
        return; // closed
      }
      open.add(client);
      Thread.ofVirtual().name("fault-proxy-conn").start(() -> serve(client));
    }
  }

  private void serve(Socket client) {
    try (client) {
      InputStream in = new BufferedInputStream(client.getInputStream());
      Request request = Request.read(in);
      if (request == null) {
        return; // the client opened and closed a connection without a request
      }
      if (request.unexpected() != null) {
        unexpected.add(request.unexpected());
        return;
      }
      Fault f = decide(request);
      OutputStream out = client.getOutputStream();
      if (f == null) {
        out.write(forward(request));
        out.flush();
        return;
      }
      switch (f) {
        case INTERNAL_ERROR -> out.write(s3Error(500, "Internal Server Error", "InternalError"));
        case SERVICE_UNAVAILABLE ->
            out.write(s3Error(503, "Service Unavailable", "ServiceUnavailable"));
        case ACCESS_DENIED -> out.write(s3Error(403, "Forbidden", "AccessDenied"));
        case RESET -> client.setSoLinger(true, 0); // close() below sends RST
        case HOLD_ANSWER -> {
          forward(request);
          heldNow.incrementAndGet();
          try {
            while (in.read() >= 0) {
              // a client sends nothing more after its request; wait for it to close
            }
          } catch (IOException e) {
            // the client gave up abruptly: the same
          } finally {
            heldNow.decrementAndGet();
          }
        }
      }
      out.flush();
    } catch (IOException e) {
      // the client went away, or the proxy is closing
    } finally {
      open.remove(client);
    }
  }

  /** The fault for this request, or null to pass it. */
  private Fault decide(Request request) {
    if (request.path().indexOf('/', 1) < 0) {
      return bucketFault; // a bucket operation (/bucket)
    }
    if (!request.method().equals("PUT")) {
      return null; // of object requests, only PUTs
    }
    int n = putsByPath.computeIfAbsent(request.path(), p -> new AtomicInteger()).incrementAndGet();
    return n <= faultedPutsPerKey ? fault : null;
  }

  /** Sends the request to the S3 server on a connection of its own; returns its whole answer. */
  private byte[] forward(Request request) throws IOException {
    try (Socket upstream = new Socket(InetAddress.getLoopbackAddress(), upstreamPort)) {
      open.add(upstream);
      try {
        OutputStream out = upstream.getOutputStream();
        out.write(request.headWithConnectionClose());
        out.write(request.body());
        out.flush();
        byte[] answer = upstream.getInputStream().readAllBytes(); // it closes after one answer
        return withConnectionClose(answer);
      } finally {
        open.remove(upstream);
      }
    }
  }

  private static byte[] s3Error(int status, String reason, String code) {
    byte[] xml =
        ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                + code
                + "</Code><Message>injected by the test proxy</Message>"
                + "<RequestId>fault-proxy</RequestId></Error>")
            .getBytes(UTF_8);
    String head =
        "HTTP/1.1 "
            + status
            + " "
            + reason
            + "\r\nContent-Type: application/xml\r\nContent-Length: "
            + xml.length
            + "\r\nConnection: close\r\n\r\n";
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    all.writeBytes(head.getBytes(ISO_8859_1));
    all.writeBytes(xml);
    return all.toByteArray();
  }

  /** The answer with its Connection header, if any, replaced by {@code Connection: close}. */
  private static byte[] withConnectionClose(byte[] answer) {
    int end = indexOfBlankLine(answer);
    if (end < 0) {
      return answer; // not an HTTP answer: pass it on and let the client complain
    }
    String head = new String(answer, 0, end, ISO_8859_1);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(closing(head).getBytes(ISO_8859_1));
    out.write(answer, end + 4, answer.length - end - 4);
    return out.toByteArray();
  }

  /** A message head (without its blank line) with {@code Connection: close}, blank line added. */
  private static String closing(String head) {
    StringBuilder out = new StringBuilder();
    for (String line : head.split("\r\n")) {
      if (!line.toLowerCase(Locale.ROOT).startsWith("connection:")) {
        out.append(line).append("\r\n");
      }
    }
    return out.append("Connection: close\r\n\r\n").toString();
  }

  private static int indexOfBlankLine(byte[] b) {
    for (int i = 0; i + 3 < b.length; i++) {
      if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') {
        return i;
      }
    }
    return -1;
  }

  /** One request as read from a client. */
  private record Request(String method, String path, String head, byte[] body, String unexpected) {

    /** Reads one request, or returns null at a clean end of stream. */
    static Request read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          return null;
        }
        head.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      String text = head.toString(ISO_8859_1);
      text = text.substring(0, text.length() - 4);
      List<String> lines = new ArrayList<>(List.of(text.split("\r\n")));
      String[] requestLine = lines.getFirst().split(" ");
      long length = 0;
      String unexpected = null;
      for (String line : lines.subList(1, lines.size())) {
        String lower = line.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(line.substring(line.indexOf(':') + 1).strip());
        } else if (lower.startsWith("transfer-encoding:") || lower.startsWith("expect:")) {
          unexpected = lines.getFirst() + " has " + line;
        }
      }
      byte[] body = in.readNBytes((int) length);
      if (body.length != length) {
        return null;
      }
      String path = requestLine[1];
      int query = path.indexOf('?');
      return new Request(
          requestLine[0], query < 0 ? path : path.substring(0, query), text, body, unexpected);
    }

    byte[] headWithConnectionClose() {
      return closing(head).getBytes(ISO_8859_1);
    }
  }
}
