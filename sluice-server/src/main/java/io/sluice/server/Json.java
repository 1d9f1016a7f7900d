package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/*
 * Just enough JSON for the command line's own use: the answers of the HTTP API become maps, lists,
 * strings, numbers, booleans and nulls, and such trees are written back out. Jackson's streaming
 * core is already on the class path for the service's parser; a data-binding library would add a
 * dependency for a few dozen lines.
 */
final class Json {
  private static final JsonFactory FACTORY = new JsonFactory();

  private Json() {}

  /**
   * JSON text that {@link #write} writes as it is, byte for byte: a value whose spelling must
   * survive (numbers a double cannot hold, escapes, whitespace), checked by {@link #parse} first.
   */
  record Raw(String json) {}

  /**
   * Reads one JSON value: the whole text, nothing cut short and nothing after it.
   *
   * @throws IllegalArgumentException if the text is not JSON
   */
  static Object parse(String text) {
    try (JsonParser p = FACTORY.createParser(text)) {
      p.nextToken();
      Object value = read(p);
      if (p.nextToken() != null) {
        throw new IOException("there is more after the JSON value");
      }
      return value;
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON: " + e.getMessage(), e);
    }
  }

  /** Reads a JSON object, or an empty map when the text is not a JSON object. */
  @SuppressWarnings("unchecked")
  static Map<String, Object> object(String text) {
    try {
      return parse(text) instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    } catch (IllegalArgumentException e) {
      return Map.of();
    }
  }

  private static Object read(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == null) {
      throw new IOException("empty");
    }
    return switch (t) {
      case START_OBJECT -> {
        Map<String, Object> map = new LinkedHashMap<>();
        JsonToken next;
        while ((next = p.nextToken()) == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          map.put(name, read(p));
        }
        if (next != JsonToken.END_OBJECT) {
          throw new IOException("the JSON ends inside an object");
        }
        yield map;
      }
      case START_ARRAY -> {
        List<Object> list = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          list.add(read(p));
        }
        yield list;
      }
      case VALUE_STRING -> p.getText();
      case VALUE_NUMBER_INT -> p.getNumberValue();
      case VALUE_NUMBER_FLOAT -> p.getDoubleValue();
      case VALUE_TRUE -> Boolean.TRUE;
      case VALUE_FALSE -> Boolean.FALSE;
      case VALUE_NULL -> null;
      default -> throw new IOException("unexpected " + t);
    };
  }

  /** Writes maps, lists, strings, numbers, booleans and nulls as JSON, pretty-printed if asked. */
  static String write(Object value, boolean pretty) {
    StringWriter out = new StringWriter();
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      if (pretty) {
        g.useDefaultPrettyPrinter();
      }
      write(g, value);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static void write(JsonGenerator g, Object value) throws IOException {
    switch (value) {
      case null -> g.writeNull();
      case Map<?, ?> map -> {
        g.writeStartObject();
        for (Map.Entry<?, ?> e : map.entrySet()) {
          g.writeFieldName(String.valueOf(e.getKey()));
          write(g, e.getValue());
        }
        g.writeEndObject();
      }
      case List<?> list -> {
        g.writeStartArray();
        for (Object item : list) {
          write(g, item);
        }
        g.writeEndArray();
      }
      case Raw raw -> g.writeRawValue(raw.json());
      case String s -> g.writeString(s);
      case Integer i -> g.writeNumber(i);
      case Long l -> g.writeNumber(l);
      case Double d -> g.writeNumber(d);
      case Number n -> g.writeNumber(n.toString());
      case Boolean b -> g.writeBoolean(b);
      default -> g.writeString(value.toString());
    }
  }
}
