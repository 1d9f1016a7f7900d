package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/*
 * Reads a POST /v1/payloads body: a JSON object whose "payloads" member is a non-empty array of
 * JSON values, with an optional string "source" and an optional ISO-8601 "runAt"; other members
 * are skipped. Also reads a PUT /v1/schedules/{name} body, whose one "payload" is cut out the same
 * way.
 *
 * One streaming pass with Jackson over the body bytes. Each payload is cut out of the body by the
 * byte offsets of its first and last token, so the stored object is the payload exactly as the
 * client wrote it (whitespace, escapes and number spelling included), without re-serialising.
 * Limits: the nesting depth of each payload (its own arrays and objects, not the envelope's: a
 * payload of depth maxDepth is accepted in both bodies) counted here as the payload is read, and
 * the whole document's through Jackson's StreamReadConstraints, set a few levels deeper
 * (ENVELOPE_DEPTH) so that it only bounds members that are skipped; payload count checked as the
 * array is read, so a huge array is refused at the first element over the limit. The body size limit is enforced before parsing, by the caller;
 * well-formed UTF-8 is checked here before parsing, as Jackson lets some ill-formed sequences pass,
 * and so is that the body is UTF-8 at all: Jackson would read JSON in UTF-16 or UTF-32 through a
 * Reader, whose tokens have no byte offsets to cut payloads by.
 */
final class PayloadParser {

  /** What a valid body holds. */
  record Batch(List<byte[]> payloads, Optional<String> source, Optional<Instant> runAt) {}

  /** What a valid schedule body holds; the policies are checked by the caller. */
  record ScheduleBody(
      String trigger,
      byte[] payload,
      Optional<String> misfire,
      Optional<String> misfireThreshold,
      Optional<String> overlap) {}

  /** Reads the members of a top-level object; the parser is at a member's value. */
  @FunctionalInterface
  private interface Members {
    void member(String name, JsonToken value, JsonParser p) throws IOException;
  }

  /**
   * Levels of the deepest envelope around a payload ({@code {"payloads": [...]}}: 2), plus one, so
   * that a payload one level too deep meets this parser's own check, which names it, before
   * Jackson's limit on the whole document.
   */
  private static final int ENVELOPE_DEPTH = 3;

  private final JsonFactory factory;
  private final int maxPayloads;
  private final int maxDepth;

  /**
   * A parser with these limits.
   *
   * @param maxPayloads the most payloads in one body
   * @param maxDepth the deepest a payload may nest arrays and objects: {@code [[1]]} is 2 deep, a
   *     number 0; the arrays and objects around the payloads do not count
   */
  PayloadParser(int maxPayloads, int maxDepth) {
    this.maxPayloads = maxPayloads;
    this.maxDepth = maxDepth;
    this.factory =
        JsonFactory.builder()
            .streamReadConstraints(
                StreamReadConstraints.builder()
                    .maxNestingDepth(
                        maxDepth > Integer.MAX_VALUE - ENVELOPE_DEPTH
                            ? Integer.MAX_VALUE
                            : maxDepth + ENVELOPE_DEPTH)
                    .build())
            .build();
  }

  /**
   * Parses a payloads body.
   *
   * @throws HttpProblem 400 for anything malformed, 413 for too many payloads
   */
  Batch parse(byte[] body) {
    List<List<byte[]>> payloads = new ArrayList<>(1);
    String[] source = new String[1];
    Instant[] runAt = new Instant[1];
    readObject(
        body,
        "{\"payloads\": [...]}",
        (name, value, p) -> {
          switch (name) {
            case "payloads" -> {
              if (!payloads.isEmpty()) {
                throw HttpProblem.badRequest("duplicate_member", "\"payloads\" appears twice");
              }
              payloads.add(readPayloads(p, value, body));
            }
            case "source" -> {
              source[0] = readString(p, value, "source", "invalid_source");
              int unpaired = unpairedSurrogate(source[0]);
              if (unpaired >= 0) {
                // The journal and S3's metadata hold text as UTF-8, which has no such character.
                throw HttpProblem.badRequest(
                    "invalid_source",
                    "\"source\" escapes an unpaired UTF-16 surrogate at character "
                        + unpaired
                        + ", which is no Unicode text; send text, or a surrogate pair");
              }
              if (source[0].length() > io.sluice.jobs.JobSpec.MAX_SOURCE_LENGTH) {
                throw HttpProblem.badRequest(
                    "invalid_source",
                    "\"source\" is longer than "
                        + io.sluice.jobs.JobSpec.MAX_SOURCE_LENGTH
                        + " characters");
              }
            }
            case "runAt" -> runAt[0] = readRunAt(p, value);
            default -> p.skipChildren();
          }
        });
    if (payloads.isEmpty()) {
      throw HttpProblem.badRequest(
          "missing_payloads", "the body has no \"payloads\" member; send {\"payloads\": [...]}");
    }
    if (payloads.getFirst().isEmpty()) {
      throw HttpProblem.badRequest(
          "empty_payloads", "\"payloads\" is empty; send at least one payload");
    }
    return new Batch(
        payloads.getFirst(), Optional.ofNullable(source[0]), Optional.ofNullable(runAt[0]));
  }

  /**
   * Parses a schedule body: {@code {"trigger": "...", "payload": <any JSON but null>, "misfire":
   * "...", "misfireThreshold": "...", "overlap": "..."}}, the last three optional.
   *
   * @throws HttpProblem 400 for anything malformed or missing
   */
  ScheduleBody parseSchedule(byte[] body) {
    String[] strings = new String[4]; // trigger, misfire, misfireThreshold, overlap
    byte[][] payload = new byte[1][];
    List<String> names = List.of("trigger", "misfire", "misfireThreshold", "overlap");
    readObject(
        body,
        "{\"trigger\": \"cron unix UTC 0 2 * * *\", \"payload\": {...}}",
        (name, value, p) -> {
          int index = names.indexOf(name);
          if (index >= 0) {
            strings[index] = readString(p, value, name, "invalid_" + name);
          } else if (name.equals("payload")) {
            if (value == JsonToken.VALUE_NULL) {
              throw HttpProblem.badRequest(
                  "null_payload", "\"payload\" is null; send a JSON value other than null");
            }
            long start = p.currentTokenLocation().getByteOffset();
            finishValue(p, value, "\"payload\"");
            payload[0] = slice(body, start, p.currentLocation().getByteOffset());
          } else {
            p.skipChildren();
          }
        });
    if (strings[0] == null) {
      throw HttpProblem.badRequest(
          "missing_trigger",
          "the body has no \"trigger\" member; send one like \"cron unix UTC 0 2 * * *\"");
    }
    if (payload[0] == null) {
      throw HttpProblem.badRequest(
          "missing_payload",
          "the body has no \"payload\" member: the JSON each fire uploads as an object");
    }
    return new ScheduleBody(
        strings[0],
        payload[0],
        Optional.ofNullable(strings[1]),
        Optional.ofNullable(strings[2]),
        Optional.ofNullable(strings[3]));
  }

  /**
   * Reads one top-level JSON object, handing each member to {@code members}, and turns every way of
   * being malformed into a 400.
   */
  private void readObject(byte[] body, String example, Members members) {
    String otherEncoding = otherUnicodeEncoding(body);
    if (otherEncoding != null) {
      throw notUtf8(otherEncoding);
    }
    String notUtf8 = invalidUtf8(body);
    if (notUtf8 != null) {
      throw HttpProblem.badRequest(
          "malformed_json", "the body is not valid UTF-8: " + notUtf8 + "; send JSON in UTF-8");
    }
    try (JsonParser p = factory.createParser(body)) {
      JsonToken first = p.nextToken();
      if (first != null && p.currentTokenLocation().getByteOffset() < 0) {
        // Jackson read the bytes as another encoding than UTF-8, through a Reader, so no payload
        // could be cut out of them; the check above should have refused such a body already.
        throw notUtf8("an encoding other than UTF-8");
      }
      if (first != JsonToken.START_OBJECT) {
        throw HttpProblem.badRequest(
            "not_an_object", "the body must be a JSON object like " + example);
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        members.member(name, p.nextToken(), p);
      }
      if (t != JsonToken.END_OBJECT) {
        throw HttpProblem.badRequest("malformed_json", "the body is not complete JSON");
      }
      if (p.nextToken() != null) {
        throw HttpProblem.badRequest(
            "malformed_json", "there is more after the JSON object; send exactly one object");
      }
    } catch (StreamConstraintsException e) {
      if (e.getMessage() != null && e.getMessage().contains("nesting depth")) {
        // Only members that are skipped get this far: payloads are checked as they are read.
        throw HttpProblem.badRequest(
            "too_deep",
            "the JSON is nested deeper than "
                + (maxDepth + ENVELOPE_DEPTH)
                + " levels in a member that is no payload (payloads may nest "
                + maxDepth
                + " levels, --max-depth)");
      }
      throw HttpProblem.badRequest(
          "value_too_large",
          "a value is larger than this service reads: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw HttpProblem.badRequest(
          "malformed_json",
          "malformed JSON: "
              + e.getOriginalMessage()
              + " at byte "
              + e.getLocation().getByteOffset());
    } catch (IOException e) {
      // Parsing a byte array does no I/O; Jackson still declares it.
      throw HttpProblem.badRequest("malformed_json", "unreadable JSON: " + e.getMessage());
    }
  }

  /**
   * The encoding a body seems to be in if it is JSON in UTF-16 or UTF-32 rather than UTF-8, or
   * null. Jackson guesses the encoding from the first four bytes (RFC 4627, section 3) and reads a
   * body it takes for UTF-16 or UTF-32 as characters, without byte offsets, so such a body must be
   * refused before it is parsed. The same four bytes tell: JSON in UTF-8 holds no NUL byte (outside
   * strings it is no token, inside one it must be escaped), while JSON's first two characters are
   * ASCII, so in UTF-16 or UTF-32 they put NUL bytes among the first four; and a UTF-16 byte order
   * mark starts with 0xFE or 0xFF, which never occur in UTF-8. (A UTF-8 byte order mark is valid
   * UTF-8 and Jackson skips it.)
   */
  static String otherUnicodeEncoding(byte[] b) {
    int b0 = b.length > 0 ? b[0] & 0xFF : -1;
    int b1 = b.length > 1 ? b[1] & 0xFF : -1;
    int b2 = b.length > 2 ? b[2] & 0xFF : -1;
    int b3 = b.length > 3 ? b[3] & 0xFF : -1;
    if (b0 == 0 && b1 == 0 && b2 == 0xFE && b3 == 0xFF) {
      return "UTF-32BE (with a byte order mark)";
    }
    if (b0 == 0xFF && b1 == 0xFE && b2 == 0 && b3 == 0) {
      return "UTF-32LE (with a byte order mark)";
    }
    if (b0 == 0xFE && b1 == 0xFF) {
      return "UTF-16BE (with a byte order mark)";
    }
    if (b0 == 0xFF && b1 == 0xFE) {
      return "UTF-16LE (with a byte order mark)";
    }
    if (b0 == 0 && b1 == 0 && b2 == 0 && b3 > 0) {
      return "UTF-32BE";
    }
    if (b0 > 0 && b1 == 0 && b2 == 0 && b3 == 0) {
      return "UTF-32LE";
    }
    if (b0 == 0 && b1 > 0 && b2 == 0 && b3 > 0) {
      return "UTF-16BE";
    }
    if (b0 > 0 && b1 == 0 && b2 > 0 && b3 == 0) {
      return "UTF-16LE";
    }
    return b0 == 0 || b1 == 0 || b2 == 0 || b3 == 0 ? "UTF-16 or UTF-32" : null;
  }

  private static HttpProblem notUtf8(String encoding) {
    return HttpProblem.badRequest(
        "malformed_json",
        "the body is not UTF-8: it looks like "
            + encoding
            + ". JSON must be UTF-8 (RFC 8259); send the same JSON encoded as UTF-8");
  }

  /**
   * The bytes of one value, from its first byte to the byte after its last, as the parser located
   * them. Offsets outside the body would be a parser that does not count bytes (which the checks
   * before parsing rule out); they are a 400 rather than an exception, as they come from the body.
   */
  private static byte[] slice(byte[] body, long start, long end) {
    if (start < 0 || end < start || end > body.length) {
      throw notUtf8("an encoding other than UTF-8 (its values cannot be located by byte)");
    }
    return Arrays.copyOfRange(body, (int) start, (int) end);
  }

  /**
   * Where and why {@code bytes} are not well-formed UTF-8 (Unicode's table 3-7), or null if they
   * are. Jackson checks only that continuation bytes follow a lead byte: it decodes overlong
   * encodings, UTF-16 surrogates and code points above U+10FFFF without complaint, and skips some
   * strings without decoding them. Payloads are stored byte for byte, so the whole body is checked
   * here first; ASCII, the common case, costs one comparison a byte.
   */
  static String invalidUtf8(byte[] bytes) {
    int i = 0;
    while (i < bytes.length) {
      int lead = bytes[i];
      if (lead >= 0) {
        i++;
        continue;
      }
      lead &= 0xFF;
      int length;
      int low = 0x80; // the range of the second byte, narrowed where Unicode narrows it
      int high = 0xBF;
      String narrowed = null;
      if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
      } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) {
          low = 0xA0;
          narrowed = "an overlong encoding";
        } else if (lead == 0xED) {
          high = 0x9F;
          narrowed = "a UTF-16 surrogate, which UTF-8 must not encode";
        }
      } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) {
          low = 0x90;
          narrowed = "an overlong encoding";
        } else if (lead == 0xF4) {
          high = 0x8F;
          narrowed = "a code point above U+10FFFF";
        }
      } else {
        return "byte " + i + " (0x" + Integer.toHexString(lead) + ") " + whyNoLead(lead);
      }
      if (i + length > bytes.length) {
        return "the sequence at byte " + i + " is cut short by the end of the body";
      }
      int second = bytes[i + 1] & 0xFF;
      if (second < 0x80 || second > 0xBF) {
        return "the sequence at byte " + i + " is cut short (byte " + (i + 1) + " continues none)";
      }
      if (second < low || second > high) {
        return "the sequence at byte " + i + " is " + narrowed;
      }
      for (int k = 2; k < length; k++) {
        int next = bytes[i + k] & 0xFF;
        if (next < 0x80 || next > 0xBF) {
          return "the sequence at byte "
              + i
              + " is cut short (byte "
              + (i + k)
              + " continues none)";
        }
      }
      i += length;
    }
    return null;
  }

  /** Why a byte of 0x80 or more cannot start a well-formed sequence. */
  private static String whyNoLead(int b) {
    if (b < 0xC0) {
      return "continues no sequence";
    }
    if (b < 0xC2) {
      return "starts an overlong encoding";
    }
    if (b < 0xF8) {
      return "starts a code point above U+10FFFF";
    }
    return "never occurs in UTF-8";
  }

  /** The index of the first surrogate in {@code s} that is not part of a pair, or -1. */
  private static int unpairedSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < s.length()
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return i;
      }
    }
    return -1;
  }

  private static String readString(JsonParser p, JsonToken value, String name, String code)
      throws IOException {
    if (value != JsonToken.VALUE_STRING) {
      throw HttpProblem.badRequest(
          code, "\"" + name + "\" must be a string, not " + describe(value));
    }
    return p.getText();
  }

  private List<byte[]> readPayloads(JsonParser p, JsonToken value, byte[] body) throws IOException {
    if (value != JsonToken.START_ARRAY) {
      throw HttpProblem.badRequest(
          "payloads_not_array", "\"payloads\" must be an array, not " + describe(value));
    }
    List<byte[]> payloads = new ArrayList<>();
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t == null) {
        throw HttpProblem.badRequest("malformed_json", "the body ends inside \"payloads\"");
      }
      if (t == JsonToken.VALUE_NULL) {
        throw HttpProblem.badRequest(
            "null_payload",
            "payloads["
                + payloads.size()
                + "] is null; every payload must be a"
                + " JSON value other than null");
      }
      if (payloads.size() == maxPayloads) {
        throw new HttpProblem(
            413,
            "too_many_payloads",
            "more than "
                + maxPayloads
                + " payloads in one request; split the batch into requests of at most "
                + maxPayloads);
      }
      long start = p.currentTokenLocation().getByteOffset();
      finishValue(p, t, "payloads[" + payloads.size() + "]");
      payloads.add(slice(body, start, p.currentLocation().getByteOffset()));
    }
    return payloads;
  }

  /**
   * Moves past the payload that starts with {@code first} (called {@code name} in errors), decoding
   * every string on the way, so invalid UTF-8 anywhere in a payload is refused (Jackson's
   * skipChildren would not look), and refusing it once it nests deeper than the limit.
   */
  private void finishValue(JsonParser p, JsonToken first, String name) throws IOException {
    if (!first.isStructStart()) {
      p.finishToken();
      return;
    }
    int depth = 1;
    while (depth > 0) {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw HttpProblem.badRequest("malformed_json", "the body ends inside a payload");
      }
      if (t.isStructStart()) {
        if (++depth > maxDepth) {
          throw HttpProblem.badRequest(
              "too_deep",
              name
                  + " is nested deeper than "
                  + maxDepth
                  + " levels of arrays and objects (--max-depth; only the payload's own arrays and"
                  + " objects count, not those around it)");
        }
      } else if (t.isStructEnd()) {
        depth--;
      } else if (t == JsonToken.VALUE_STRING) {
        p.finishToken();
      }
    }
  }

  private static Instant readRunAt(JsonParser p, JsonToken value) throws IOException {
    if (value != JsonToken.VALUE_STRING) {
      throw HttpProblem.badRequest(
          "invalid_run_at",
          "\"runAt\" must be an ISO-8601 instant string like \"2026-11-27T10:15:30Z\", not "
              + describe(value));
    }
    String text = p.getText();
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw HttpProblem.badRequest(
          "invalid_run_at",
          "\"runAt\" is not an ISO-8601 instant: \""
              + (text.length() > 64 ? text.substring(0, 64) + "..." : text)
              + "\"; write it like \"2026-11-27T10:15:30Z\"");
    }
  }

  private static String describe(JsonToken t) {
    return switch (t) {
      case START_OBJECT -> "an object";
      case START_ARRAY -> "an array";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> t.toString();
    };
  }
}
