package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;

/*
 * The check 'sluice load' makes of each 202: the body must be {"accepted": N, "ids": [...]} with N
 * the number of payloads sent and one id (a string) per payload, as POST /v1/payloads promises.
 * Anything else — another 2xx, a 202 that accepted fewer or more, a body that is not that JSON —
 * is an unexpected answer, not a success: a load generator that counted any 2xx would report a
 * broken service (or a proxy answering in its place) as fast.
 *
 * How: Jackson's streaming parser, one pass over the tokens, no tree and no strings kept (ids are
 * counted, not read). Members may come in any order, with any whitespace, and other members are
 * skipped, so a service that adds a member or pretty-prints does not fail the check; a duplicate
 * member, a number that is not a whole one, trailing bytes after the object, and ill-formed JSON
 * all do. A check took 0.15-0.4 µs (one id to ten; a plain timing loop on this project's 2-core
 * machine, not JMH), under 1% of the 35-45 µs of CPU a request costs the generator
 * (LoadConnection). A substring test would cost less but would not be reliable: it would pass
 * {"accepted":1,"ids":[]}, or fail on whitespace or member order.
 */
final class AcceptedAnswer {
  private static final JsonFactory FACTORY =
      JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

  private AcceptedAnswer() {}

  /**
   * What is wrong with a 202's body for a batch of {@code payloads} payloads.
   *
   * @param body the whole body
   * @param payloads how many payloads the request sent
   * @return null if the body is {@code {"accepted": payloads, "ids": [payloads strings]}}, else a
   *     short sentence saying what is wrong
   */
  static String mismatch(String body, int payloads) {
    boolean sawAccepted = false;
    long accepted = 0;
    long ids = -1;
    try (JsonParser p = FACTORY.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return "the body is not a JSON object";
      }
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        if (t != JsonToken.FIELD_NAME) {
          return "the body ends early";
        }
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "accepted" -> {
            if (value != JsonToken.VALUE_NUMBER_INT
                || p.getNumberType() != JsonParser.NumberType.INT) {
              return "\"accepted\" is not a count";
            }
            sawAccepted = true;
            accepted = p.getIntValue();
          }
          case "ids" -> {
            if (value != JsonToken.START_ARRAY) {
              return "\"ids\" is not an array";
            }
            ids = 0;
            for (JsonToken id = p.nextToken(); id != JsonToken.END_ARRAY; id = p.nextToken()) {
              if (id != JsonToken.VALUE_STRING) {
                return "\"ids\" holds something other than strings";
              }
              ids++;
            }
          }
          default -> p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        return "the body goes on after its JSON object";
      }
    } catch (JsonProcessingException e) { // ill-formed JSON, a duplicate member
      return "the body is not the JSON expected: " + e.getOriginalMessage();
    } catch (IOException e) { // reading a string: not expected
      return "the body could not be read: " + e.getMessage();
    }
    if (!sawAccepted) {
      return "no \"accepted\" count";
    }
    if (ids < 0) {
      return "no \"ids\"";
    }
    if (accepted != payloads) {
      return "\"accepted\" is " + accepted + ", not the " + payloads + " payloads sent";
    }
    if (ids != payloads) {
      return "\"ids\" names " + ids + " jobs, not the " + payloads + " payloads sent";
    }
    return null;
  }
}
